import { createSocket, type Socket } from 'node:dgram'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request as httpsRequest } from 'node:https'
import { Ajv } from 'ajv'
import { got } from 'got'
import { parse, stringify } from 'yaml'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { silentLogger } from '../../src/log.js'
import { codeOf } from './qrs-helpers.js'
import { senseConfigSchema, senseConfigWithDefaults, type SenseConfig } from '../../src/sense/config.js'
import { toSenseError } from '../../src/sense/errors.js'
import {
  createQrsClient,
  EMPTY_GUID,
  TaskExecutionStatus,
  XRFKEY_PATTERN,
  type QrsClient,
} from '../../src/sense/qrs/index.js'
import { defaultFixturePath } from '../../src/sim/fixture-path.js'
import { startSimulator, type RunningSimulator } from '../../src/sim/index.js'
import type { RecordedQrsCall } from '../../src/sim/recorder.js'

/**
 * The QRS client against the simulator (src/sim), configured only from the sensebus config file the
 * simulator writes: what a real site would need, nothing simulator-specific on the client side.
 */

const FAILING_TASK = 'dec2a02a-1680-44ef-8dc2-e2bfb180af87'
const SALES_ETL_TASK = '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a'
const SALES_APP = '8e7d6c5b-4a39-4281-b0c1-d2e3f4a5b6c7'
const GORAN = '2d0b8a9c-1f3e-4a5b-8c7d-6e5f4a3b2c1d'
const QUOTED_TASK = 'c0ffee00-1111-4222-8333-444455556666'
const UNKNOWN = '12345678-90ab-4cde-8f01-234567890abc'

let sim: RunningSimulator
let udp: Socket
let config: SenseConfig
let qrs: QrsClient

/** The demo site plus a task, tag and custom property whose names carry single quotes. */
function fixtureWithQuotes(): string {
  const doc = parse(readFileSync(defaultFixturePath(), 'utf8')) as Record<string, unknown[]>
  doc.tags?.push("It's tagged")
  doc.customPropertyDefinitions?.push({
    name: "Owner's team",
    choiceValues: ["Ops' team"],
    objectTypes: ['ReloadTask'],
  })
  doc.tasks?.push({
    id: QUOTED_TASK,
    name: "Reload O'Brien's app",
    app: 'Sales dashboard',
    tags: ["It's tagged"],
    customProperties: { "Owner's team": "Ops' team" },
    behaviour: { outcome: 'success', durationMs: 50 },
  })
  const path = join(mkdtempSync(join(tmpdir(), 'sensebus-qrs-fixture-')), 'fixture.yaml')
  writeFileSync(path, stringify(doc))
  return path
}

/** The `sense:` slice of the generated config, validated and defaulted by our own schema. */
function senseSliceFromConfigFile(file: string): SenseConfig {
  const doc = parse(readFileSync(file, 'utf8')) as { sense: Record<string, unknown> }
  const schema = { type: 'object', properties: { sense: senseConfigSchema } }
  const validate = new Ajv({ useDefaults: true, strict: true }).compile(schema)
  const slice = { sense: doc.sense }
  if (!validate(slice)) throw new Error(`generated sense: slice is invalid: ${JSON.stringify(validate.errors)}`)
  return slice.sense as unknown as SenseConfig
}

async function control(path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${sim.settings.controlUrl}/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return res.json()
}

async function poll<T>(read: () => Promise<T | undefined>, timeoutMs = 8_000): Promise<T> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (value !== undefined) return value
    if (Date.now() > until) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 25))
  }
}

function qrsCalls(): RecordedQrsCall[] {
  return sim.recorder.list('qrs').filter((c): c is RecordedQrsCall => c.face === 'qrs')
}

beforeAll(async () => {
  udp = createSocket('udp4')
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', () => resolve()))
  sim = await startSimulator({
    certDir: mkdtempSync(join(tmpdir(), 'sensebus-qrs-sim-')),
    fixture: fixtureWithQuotes(),
    qrsPort: 0,
    enginePort: 0,
    controlPort: 0,
    udpTarget: { host: '127.0.0.1', port: udp.address().port },
    timing: { triggeredToSendingMs: 0, sendingToStartedMs: 0, startedToScriptLogMs: 0 },
    virtualProxy: { port: 0, prefix: 'hdr', header: 'X-Sense-User' },
  })
  config = senseSliceFromConfigFile(sim.settings.configFile)
  qrs = createQrsClient(
    { ...config, qrs: { ...config.qrs, timeoutMs: 5_000 } },
    {
      log: silentLogger(),
      scriptLog: { attempts: 3, retryDelayMs: 100, downloadPauseMs: 20 },
      maxRetryDelayMs: 20,
    },
  )
})

afterAll(async () => {
  qrs?.close()
  await sim?.close()
  await new Promise<void>((resolve) => (udp ? udp.close(() => resolve()) : resolve()))
})

beforeEach(async () => {
  await control('faults', { downloadTooEarlyMs: 0, qrs5xxRate: 0 })
  sim.recorder.clear()
})

describe('configured from the simulator-written config file', () => {
  it('the generated sense: slice passes senseConfigSchema and needs nothing simulator-specific', () => {
    expect(config.host).toBe('127.0.0.1')
    expect(config.qrs.port).toBe(sim.settings.qrsPort)
    expect(config.certs.dir).toBe(sim.settings.certDir)
    expect(config.virtualProxy).toBeUndefined()
  })

  it('every call carries a well-formed xrfkey the simulator accepts, as INTERNAL\\sa_repository', async () => {
    await qrs.about()
    await qrs.getTask(FAILING_TASK)
    await qrs.findApps({ id: SALES_APP })
    const calls = (await control('requests?face=qrs')) as Array<{
      status: number
      query: Record<string, string>
      user: string
    }>
    expect(calls).toHaveLength(3)
    for (const call of calls) {
      expect(call.status).toBe(200)
      expect(call.query.xrfkey).toMatch(XRFKEY_PATTERN)
      expect(call.user).toBe('INTERNAL\\sa_repository')
    }
    expect(new Set(calls.map((c) => c.query.xrfkey)).size).toBe(3)
  })
})

describe('the simulator refuses what real QRS refuses', () => {
  const certFiles = () => ({
    cert: readFileSync(sim.settings.certFiles.client),
    key: readFileSync(sim.settings.certFiles.clientKey),
    ca: readFileSync(sim.settings.certFiles.root),
  })

  it('an xrfkey mismatch gets 403, which we map to SENSE_AUTH', async () => {
    const { cert, key, ca } = certFiles()
    const url = `https://127.0.0.1:${sim.settings.qrsPort}/qrs/about?xrfkey=AAAAAAAAAAAAAAAA`
    const err = await got(url, {
      headers: { 'X-Qlik-Xrfkey': 'BBBBBBBBBBBBBBBB', 'X-Qlik-User': 'UserDirectory=INTERNAL; UserId=sa_repository' },
      https: { certificate: cert, key, certificateAuthority: ca },
      retry: { limit: 0 },
    }).then(
      () => undefined,
      (e: unknown) => e,
    )
    const mapped = toSenseError(err, { method: 'GET', path: '/qrs/about' })
    expect(mapped.code).toBe('SENSE_AUTH')
    expect(mapped.details).toMatchObject({
      status: 403,
      body: 'XSRF prevention check failed. Possible XSRF discovered.',
    })
  })

  it('no client certificate: the TLS handshake is refused (raw request, and our client → SENSE_AUTH)', async () => {
    const { ca } = certFiles()
    const raw = await new Promise<unknown>((resolve) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port: sim.settings.qrsPort,
          path: '/qrs/about?xrfkey=AAAAAAAAAAAAAAAA',
          ca,
          agent: false,
          headers: { 'X-Qlik-Xrfkey': 'AAAAAAAAAAAAAAAA' },
        },
        (res) => resolve(res.statusCode),
      )
      req.on('error', resolve)
      req.end()
    })
    expect(raw).toBeInstanceOf(Error)
    // Our client in header-auth mode sends no certificate; aimed at the certificate port it must fail.
    const noCert = createQrsClient(
      { ...config, virtualProxy: { prefix: 'qrs-direct', port: sim.settings.qrsPort, headerName: 'X-Sense-User' } },
      { log: silentLogger() },
    )
    const code = await codeOf(noCert.about())
    noCert.close()
    // Normally SENSE_AUTH (certificate-required alert); SENSE_UNREACHABLE only if the reset wins the race.
    expect(['SENSE_AUTH', 'SENSE_UNREACHABLE']).toContain(code)
  })
})

describe('reads, filters and 404s', () => {
  it('finds tasks by names, tags and custom properties containing single quotes', async () => {
    expect((await qrs.findTasks({ name: "Reload O'Brien's app" })).map((t) => t.id)).toEqual([QUOTED_TASK])
    expect((await qrs.findTasks({ name: "reload o'brien's APP" })).map((t) => t.id)).toEqual([QUOTED_TASK])
    expect((await qrs.findTasks({ tag: "It's tagged" })).map((t) => t.id)).toEqual([QUOTED_TASK])
    const byCp = await qrs.findTasks({ customProperty: { name: "Owner's team", value: "Ops' team" } })
    expect(byCp.map((t) => t.id)).toEqual([QUOTED_TASK])
    expect(await qrs.findTasks({ name: "O'Brien" })).toEqual([])
    expect((await qrs.listTags("It's tagged")).map((t) => t.name)).toEqual(["It's tagged"])
    expect((await qrs.listCustomPropertyDefinitions('ReloadTask', "Owner's team"))[0]?.choiceValues).toEqual([
      "Ops' team",
    ])
    expect(qrsCalls().every((c) => c.status === 200)).toBe(true)
  })

  it('reads typed entities: task, reload task, app, user e-mail, tags, custom property definitions', async () => {
    const task = await qrs.getTask(FAILING_TASK)
    expect(task).toMatchObject({ id: FAILING_TASK, taskType: 0, schemaPath: 'ReloadTask' })
    expect(task.tags.map((t) => t.name)).toContain('Butler demo')
    expect(await qrs.taskExists(FAILING_TASK)).toBe(true)
    expect(await qrs.taskExists(UNKNOWN)).toBe(false)
    const reload = await qrs.getReloadTask(FAILING_TASK)
    expect(reload.app?.id).toBe('e7af59a0-c243-480d-9571-08727551a66f')
    expect(reload.operational.lastExecutionResult).toHaveProperty('fileReferenceID')
    expect((await qrs.getApp(SALES_APP)).name).toBe('Sales dashboard')
    expect(await qrs.getUserEmail(GORAN)).toBe('goran@example.com')
    expect((await qrs.listTags()).length).toBeGreaterThan(3)
    const defs = await qrs.listCustomPropertyDefinitions('ReloadTask')
    expect(defs.map((d) => d.name)).toContain('Butler_FailedTaskAlert')
    expect(defs.every((d) => d.objectTypes.includes('ReloadTask'))).toBe(true)
  })

  it('unknown ids: 404 → NOT_FOUND for reads, SENSE_TASK_NOT_FOUND for starts', async () => {
    expect(await codeOf(qrs.getReloadTask(UNKNOWN))).toBe('NOT_FOUND')
    expect(await codeOf(qrs.getApp(UNKNOWN))).toBe('NOT_FOUND')
    expect(await codeOf(qrs.getUser(UNKNOWN))).toBe('NOT_FOUND')
    expect(await codeOf(qrs.getTask(UNKNOWN))).toBe('NOT_FOUND')
    expect(await codeOf(qrs.startTask(UNKNOWN))).toBe('SENSE_TASK_NOT_FOUND')
    expect(await qrs.getExecutionSession(UNKNOWN)).toBeNull()
  })

  it('GETs are retried on 5xx, starts are not', async () => {
    await control('faults', { qrs5xxRate: 1, qrs5xxStatus: 503 })
    expect(await codeOf(qrs.getApp(SALES_APP))).toBe('SENSE_ERROR')
    expect(await codeOf(qrs.startTask(SALES_ETL_TASK))).toBe('SENSE_ERROR')
    const calls = qrsCalls()
    expect(calls.filter((c) => c.method === 'GET')).toHaveLength(config.qrs.retries + 1)
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(1)
  })
})

describe('start → execution → script log', () => {
  it('a failing task: start (204) → FinishedFail result → script log by both routes', async () => {
    await control(`tasks/${FAILING_TASK}/behaviour`, { durationMs: 100 })
    await qrs.startTask(FAILING_TASK)
    const started = qrsCalls().find((c) => c.method === 'POST')
    expect(started).toMatchObject({ path: `/qrs/task/${FAILING_TASK}/start`, status: 204 })

    const run = await poll(async () => {
      const last = (await qrs.getReloadTask(FAILING_TASK)).operational.lastExecutionResult
      return last.status === TaskExecutionStatus.FinishedFail ? last : undefined
    })
    const results = await qrs.getExecutionResults({ taskId: FAILING_TASK })
    expect(results.some((r) => r.id === run.id && r.status === TaskExecutionStatus.FinishedFail)).toBe(true)

    const oldRoute = await qrs.getScriptLog(FAILING_TASK, run)
    expect(oldRoute).toContain('\r\n')
    expect(oldRoute).toMatch(/Error: Cannot open file/)
    const newRoute = await qrs.getScriptLog(FAILING_TASK, { id: run.id, fileReferenceID: EMPTY_GUID })
    expect(newRoute).toBe(oldRoute)
    const paths = qrsCalls().map((c) => c.path.toLowerCase())
    expect(paths).toContain(`/qrs/reloadtask/${FAILING_TASK}/scriptlog`)
    expect(paths).toContain(`/qrs/reloadtask/${FAILING_TASK}/scriptlogfile`)
  })

  it('retries while the simulator says the log is not ready yet', async () => {
    // The fault answers 404 to downloads within 500 ms of the run's end (butler#1499); ten rounds
    // 100 ms apart outlast it even on a busy machine.
    const patient = createQrsClient(config, {
      log: silentLogger(),
      scriptLog: { attempts: 10, retryDelayMs: 100, downloadPauseMs: 10 },
    })
    await control(`tasks/${FAILING_TASK}/behaviour`, { durationMs: 50 })
    await control('faults', { downloadTooEarlyMs: 500 })
    const sessionId = await qrs.startTaskSynchronous(FAILING_TASK)
    const result = await poll(async () => {
      const list = await qrs.getExecutionResults({ executionId: sessionId })
      return list.find((r) => r.status === TaskExecutionStatus.FinishedFail)
    })
    sim.recorder.clear()
    const log = await patient.getScriptLog(FAILING_TASK, result)
    patient.close()
    expect(log).toMatch(/Execution Failed/)
    const downloads = qrsCalls().filter((c) => c.path.includes('/download/'))
    expect(downloads.map((c) => c.status)).toContain(404)
    expect(downloads.at(-1)?.status).toBe(200)
  })

  it('synchronous start: session id, session visible while running, gone after; results by execution id', async () => {
    await control(`tasks/${QUOTED_TASK}/behaviour`, { durationMs: 400 })
    const sessionId = await qrs.startTaskSynchronous(QUOTED_TASK)
    expect(sessionId).not.toBe(EMPTY_GUID)
    expect(await qrs.getExecutionSession(sessionId)).not.toBeNull()
    await poll(async () => ((await qrs.getExecutionSession(sessionId)) === null ? true : undefined))
    const results = await qrs.getExecutionResults({ executionId: sessionId })
    expect(results.map((r) => r.status)).toContain(TaskExecutionStatus.FinishedSuccess)
    expect(results.every((r) => r.executionID.toLowerCase() === sessionId.toLowerCase())).toBe(true)
  })

  it('a disabled task does not start: empty GUID', async () => {
    expect(await qrs.startTaskSynchronous('7c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f')).toBe(EMPTY_GUID)
  })

  it('starts by name and many at once', async () => {
    await control(`tasks/${QUOTED_TASK}/behaviour`, { durationMs: 20 })
    await qrs.startTaskByName("Reload O'Brien's app")
    await qrs.startTasks([QUOTED_TASK])
    const posts = qrsCalls().filter((c) => c.method === 'POST')
    expect(posts.map((c) => [c.path, c.status])).toEqual([
      ['/qrs/task/start', 204],
      ['/qrs/task/start/many', 204],
    ])
  })
})

describe('virtual proxy (header authentication, QLIK-PROTOCOLS §1.4)', () => {
  it('reaches the same QRS through /hdr/qrs/ without a client certificate', async () => {
    const vp = sim.settings.virtualProxy
    if (!vp) throw new Error('simulator started without its virtual proxy')
    const viaProxy = createQrsClient(
      senseConfigWithDefaults({
        host: config.host,
        certs: { dir: config.certs.dir },
        virtualProxy: { prefix: vp.prefix, port: vp.port, headerName: vp.header },
      }),
      { log: silentLogger() },
    )
    const task = await viaProxy.getTask(FAILING_TASK)
    viaProxy.close()
    expect(task.id).toBe(FAILING_TASK)
    const call = qrsCalls().at(-1)
    expect(call).toMatchObject({ path: '/hdr/qrs/task/full', status: 200, user: 'INTERNAL\\sa_repository' })
  })
})
