import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { silentLogger } from '../../src/log.js'
import { altNamesOf, certificateSerial } from '../../src/sim/certs/generate.js'
import { ensureCertificates } from '../../src/sim/certs/cert-dir.js'
import { buildModelContents, FixtureError } from '../../src/sim/model/load-fixture.js'
import { matchesFilter } from '../../src/sim/qrs/filter/evaluate.js'
import { FilterParseError, parseFilter } from '../../src/sim/qrs/filter/parse.js'
import { parseQuery } from '../../src/sim/qrs/http-util.js'
import { renderScriptRun } from '../../src/sim/script/script-runner.js'
import { log4netDate, scriptLogTimestamp } from '../../src/sim/time-format.js'
import { datagramType } from '../../src/sim/udp/datagram.js'
import { tempCertDir } from './sim-harness.js'

describe('filter parser and evaluator (QLIK-PROTOCOLS §1.5.1)', () => {
  const entity = {
    id: 'DEC2A02A-1680-44EF-8DC2-E2BFB180AF87',
    name: "O'Brien's reload",
    taskType: 0,
    enabled: true,
    stream: null,
    tags: [{ name: 'Nightly' }, { name: 'Finance' }],
    customProperties: [
      { definition: { name: 'Alert' }, value: 'Failed' },
      { definition: { name: 'Owner' }, value: 'goran' },
    ],
    operational: { lastExecutionResult: { status: 8, startTime: '2024-03-05T06:00:00.000Z' } },
  }
  it.each([
    ['id eq dec2a02a-1680-44ef-8dc2-e2bfb180af87', true],
    ["Name EQ 'o''brien''s RELOAD'", true],
    ["tags.name eq 'finance'", true],
    ["tags.name ne 'finance'", false],
    ["tags.name ne 'Sales'", true],
    ["customProperties.definition.name eq 'Alert' and customProperties.value eq 'goran'", true],
    ["(taskType eq 1) or (name sw 'o''b' and enabled eq true)", true],
    ['operational.lastExecutionResult.status eq FinishedFail', true],
    ['operational.lastExecutionResult.status ge 7 and operational.lastExecutionResult.status lt 8', false],
    ["operational.lastExecutionResult.startTime gt '2024-03-05 05:59:59'", true],
    ['stream eq null', true],
    ["name ew 'RELOAD'", true],
    ["name so 'brien'", true],
  ])('%s → %s', (filter, expected) => {
    expect(matchesFilter(entity, parseFilter(filter))).toBe(expected)
  })

  it.each(["name eq 'x", 'name eq', 'eq x', '(name eq x', 'name eq x)', 'name eq x and', 'name like x', 'name eq x y'])(
    'rejects %j',
    (filter) => {
      expect(() => parseFilter(filter)).toThrow(FilterParseError)
    },
  )

  it('decodes queries without turning + into a space and lower-cases names', () => {
    const q = parseQuery('Filter=name%20eq%20%27a+b%27&XRFKEY=abc')
    expect(q.get('filter')).toBe("name eq 'a+b'")
    expect(q.get('xrfkey')).toBe('abc')
  })
})

describe('script runner (§4.6)', () => {
  const script =
    "SET ThousandSep=',';\nSales:\nLOAD *\nFROM [lib://DataFiles/sales_2021.qvd] (qvd);\nFAIL_SIM;\nT2:\nLOAD 1 " +
    'AS x AUTOGENERATE 1;\n'
  const startedAt = new Date(2021, 1, 16, 9, 24, 55, 512)

  it('fails at a missing file in mode 0 and stops there', () => {
    const run = renderScriptRun({
      script,
      startedAt,
      durationMs: 3000,
      missingFiles: ['lib://DataFiles/sales_2021.qvd'],
    })
    expect(run.success).toBe(false)
    expect(run.errors).toEqual([expect.objectContaining({ line: 4 })])
    expect(run.log).not.toContain('FAIL_SIM')
    expect(run.logBytes).toBe(Buffer.byteLength(run.log))
    expect(run.log.startsWith(`${scriptLogTimestamp(startedAt)} Execution started.\r\n`)).toBe(true)
  })

  it('continues past errors in mode 2 and succeeds', () => {
    const run = renderScriptRun({ script, mode: 2, missingFiles: ['lib://DataFiles/sales_2021.qvd'] })
    expect(run.success).toBe(true)
    expect(run.errors.map((e) => e.line)).toEqual([4, 5])
    expect(run.log).toContain('T2 << T2')
    expect(run.log).toMatch(/Execution finished\.$/)
  })

  it('fails at the FAIL_SIM statement without a missing file, and at failLine when forced', () => {
    expect(renderScriptRun({ script }).errors[0]?.line).toBe(5)
    const forced = renderScriptRun({
      script: 'A:\nLOAD 1 AS a AUTOGENERATE 1;\nB:\nLOAD 2 AS b AUTOGENERATE 1;\n',
      forceFail: true,
      failLine: 3,
      errorText: 'boom',
    })
    expect(forced.errors).toEqual([{ line: 4, statement: 'B: LOAD 2 AS b AUTOGENERATE 1', message: 'boom' }])
    expect(forced.log).toContain('Error: boom')
  })

  it('writes a partial-reload marker and the success tail', () => {
    const run = renderScriptRun({ script: 'X:\nLOAD 1 AS a AUTOGENERATE 1;', partial: true })
    expect(run.log).toContain(' Partial reload\r\n')
    expect(run.log).toContain(' Finished successfully\r\n')
  })
})

describe('formats (§3.3, §0.6)', () => {
  it('log4net %date and script-log timestamps are local time', () => {
    const d = new Date(2021, 1, 16, 9, 24, 59, 99)
    expect(log4netDate(d)).toBe('2021-02-16 09:24:59,099')
    expect(scriptLogTimestamp(d)).toMatch(/^20210216T092459\.099[+-]\d{4}$/)
  })

  it('type strings', () => {
    expect(datagramType('success', { successSlash: 'double', legacyTypeNames: false })).toBe(
      '/scheduler-task-success//',
    )
    expect(datagramType('success', { successSlash: 'single', legacyTypeNames: false })).toBe('/scheduler-task-success/')
    expect(datagramType('aborted', { successSlash: 'double', legacyTypeNames: true })).toBe(
      '/scheduler-reload-aborted/',
    )
    expect(datagramType('distribute', { successSlash: 'double', legacyTypeNames: true })).toBe('/scheduler-distribute/')
  })
})

describe('fixture loader', () => {
  it('reports dangling references and bad ids', () => {
    expect(() => buildModelContents({ apps: [{ name: 'A', owner: 'LAB\\nobody' }] })).toThrow(FixtureError)
    expect(() => buildModelContents({ tags: [{ id: 'not-a-guid', name: 'x' }] })).toThrow(/not a GUID/)
    expect(() => buildModelContents({ tasks: [{ name: 'T' }] })).toThrow(/needs an app/)
  })

  it('derives stable ids, so a reload of the same fixture keeps them', () => {
    const doc = { users: [{ directory: 'LAB', userId: 'u' }], apps: [{ name: 'A', customProperties: {} }], tags: ['t'] }
    expect(buildModelContents(doc).apps[0]?.id).toBe(buildModelContents(doc).apps[0]?.id)
  })
})

describe('certificates', () => {
  it('numbers each with a positive serial in minimal DER (OpenSSL refuses a padded one: "illegal padding")', () => {
    for (let i = 0; i < 5000; i++) {
      const hex = certificateSerial()
      // 16 bytes; the first 0x01–0x7f: positive without a sign byte, and no leading zero byte.
      expect(hex).toMatch(/^[0-7][0-9a-f]{31}$/)
      expect(hex.slice(0, 2)).not.toBe('00')
    }
  })

  it('writes the QMC export layout once and reuses it', async () => {
    const dir = tempCertDir('certs')
    const first = await ensureCertificates(dir, '127.0.0.1', silentLogger())
    for (const f of ['client.pem', 'client_key.pem', 'root.pem', 'server.pem', 'server_key.pem'])
      expect(existsSync(join(dir, f))).toBe(true)
    expect(altNamesOf(first.server.cert)).toEqual(expect.arrayContaining(['localhost', '127.0.0.1', '::1']))
    const mtime = statSync(join(dir, 'client.pem')).mtimeMs
    const second = await ensureCertificates(dir, '127.0.0.1', silentLogger())
    expect(second.client.cert).toBe(first.client.cert)
    expect(statSync(join(dir, 'client.pem')).mtimeMs).toBe(mtime)
    // A new host reissues only the server certificate, with the same CA.
    const third = await ensureCertificates(dir, 'sense.lab.local', silentLogger())
    expect(third.ca).toBe(first.ca)
    expect(altNamesOf(readFileSync(join(dir, 'server.pem'), 'utf8'))).toContain('sense.lab.local')
  })
})
