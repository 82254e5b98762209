import { execFile, spawn } from 'node:child_process'
import { mkdtemp, readdir, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { createLogger } from '../../src/log.js'
import { afterWrites as flush, captureLines as capture } from '../helpers/log-capture.js'
import { type AuditEntry, createAuditor } from '../../src/security/audit.js'

const withoutTime = (line: string) => line.replace(/,"time":"[^"]*"/, '')

/** Strings a caller controls reach the line: quotes, escapes, control characters, pairs and lone surrogates. */
const AWKWARD = ['plain', 'a"b', 'back\\slash', 'new\nline', '\u0001', 'emoji 😀', 'lone \ud800 half', 'ünï', '']

function entry(s: string): AuditEntry {
  return {
    capability: `kv/${s}`,
    transaction: s,
    via: 'http',
    transport: 'http',
    clientId: undefined,
    username: s,
    tokenName: undefined,
    roles: [s, 'admin'],
    origin: '127.0.0.1',
    outcome: 'ok',
    durationMs: 0.25,
    jobId: s,
  }
}

describe('audit line', () => {
  it('is, byte for byte, the line pino writes for the same entry', async () => {
    const fast = capture()
    const slow = capture()
    const auditor = createAuditor({
      log: createLogger({ destination: fast.stream, format: 'json' }).child({ area: 'audit' }),
      errors: createLogger({ destination: capture().stream }),
    })
    const reference = createLogger({ destination: slow.stream, format: 'json' }).child({ area: 'audit' })
    for (const s of AWKWARD) {
      auditor.refused(entry(s))
      reference.info(entry(s), 'request')
    }
    auditor.refused({ ...entry('x'), durationMs: Number.NaN, transaction: 42 })
    reference.info({ ...entry('x'), durationMs: Number.NaN, transaction: 42 }, 'request')
    await flush()
    expect(fast.lines).toHaveLength(AWKWARD.length + 1)
    expect(fast.lines.map(withoutTime)).toEqual(slow.lines.map(withoutTime))
    expect(JSON.parse(fast.lines[5] as string)).toMatchObject({ level: 30, area: 'audit', username: 'emoji 😀' })
  })

  it('cuts a long caller-chosen transaction to 64 characters, for answered and refused calls alike', async () => {
    const out = capture()
    const auditor = createAuditor({ log: createLogger({ destination: out.stream }), errors: createLogger() })
    const long = 't'.repeat(200)
    auditor.dispatched({ capability: 'kv/get', transaction: long, identity: undefined, outcome: 'ok', durationMs: 1 })
    auditor.refused({ ...entry('x'), transaction: long })
    auditor.refused({ ...entry('x'), transaction: 7 })
    await flush()
    expect(out.lines.map((l) => JSON.parse(l).transaction)).toEqual([`${'t'.repeat(64)}…`, `${'t'.repeat(64)}…`, 7])
    expect(JSON.parse(out.lines[0] as string)).toMatchObject({ via: 'mqtt', transport: 'mqtt', outcome: 'ok' })
  })

  it('follows the logger: none below its level, and to the log file as well as the console', async () => {
    const quiet = capture()
    createAuditor({ log: createLogger({ destination: quiet.stream, level: 'warn' }), errors: createLogger() }).refused(
      entry('x'),
    )
    const dir = await mkdtemp(join(tmpdir(), 'audit-line-'))
    const out = capture()
    const log = createLogger({
      destination: out.stream,
      format: 'json',
      file: { enabled: true, dir, name: 'sb', retainDays: 1, format: 'json' },
    })
    createAuditor({ log: log.child({ area: 'audit' }), errors: log }).refused(entry('both'))
    await flush()
    expect(quiet.lines).toEqual([])
    expect(out.lines.map((l) => JSON.parse(l).username)).toEqual(['both'])
    const [name] = await readdir(dir)
    const fileLines = (await readFile(join(dir, name as string), 'utf8')).trim().split('\n')
    expect(fileLines.map((l) => JSON.parse(l).username)).toEqual(['both'])
  })
})

describe('stdout lines written in batches', () => {
  // The built logger (global setup compiles src to dist) in a process of its own, stdout a pipe.
  const script = (count: number, end: string) => `
    const { createLogger } = await import(${JSON.stringify(resolve('dist/log.js'))})
    const log = createLogger({ level: 'info', format: 'json' })
    for (let i = 0; i < ${count}; i++) log.info({ i }, 'line')
    ${end}`

  it('drop what a stdout nobody reads leaves waiting beyond 16 MB, and count them for /metrics', async () => {
    // 40 MB of lines, yielding between batches as a service does; stdout a pipe this test never reads.
    const code = `
      const { createLogger, logLinesDropped } = await import(${JSON.stringify(resolve('dist/log.js'))})
      const log = createLogger({ level: 'info', format: 'json' })
      const pad = 'x'.repeat(400)
      for (let i = 0; i < 100; i++) {
        for (let j = 0; j < 1000; j++) log.info({ pad }, 'line')
        await new Promise((r) => setImmediate(r))
      }
      await new Promise((r) => setTimeout(r, 300))
      process.stderr.write(JSON.stringify({ dropped: logLinesDropped(), rss: process.memoryUsage().rss }) + '\\n')`
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.pause()
    let err = ''
    const report = await new Promise<{ dropped: number; rss: number }>((res, rej) => {
      child.stderr.on('data', (c: Buffer) => {
        err += c.toString()
        if (err.includes('\n')) res(JSON.parse(err.slice(0, err.indexOf('\n'))))
      })
      child.on('exit', (c) => rej(new Error(`exited ${c}: ${err}`)))
    })
    child.kill('SIGKILL')
    // About 24 MB of the 40 did not fit (a 64 KB pipe, 16 MB waiting): some tens of thousands of lines.
    expect(report.dropped).toBeGreaterThan(40_000)
    expect(report.dropped).toBeLessThan(100_000)
  })

  it.each([
    ['process.exit()', 'process.exit(0)'],
    ['an uncaught error', 'setImmediate(() => { throw new Error("boom") })'],
    ['the event loop running dry', ''],
  ])('are all out when the process ends by %s', async (_, end) => {
    for (const count of [3, 20_000]) {
      const run = promisify(execFile)(process.execPath, ['--input-type=module', '-e', script(count, end)], {
        maxBuffer: 64 * 1024 * 1024,
      })
      const stdout = await run.then(
        (r) => r.stdout,
        (err: { stdout: string }) => err.stdout,
      )
      const lines = stdout.trim().split('\n')
      expect(lines).toHaveLength(count)
      expect(JSON.parse(lines[count - 1] as string)).toMatchObject({ i: count - 1, msg: 'line' })
    }
  })
})
