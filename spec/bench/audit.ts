/**
 * What the audit line costs a request (issue #10: "audit stays on but costs ≤ 5% of a request").
 * Subject: sensebus with its default audit (`security.audit.log: true`, one JSON line per request at info
 * level, written to stdout as `sensebus start` does, stdout going to a file as under a service manager).
 * Baseline: the same with `security.audit.log: false`. Both forked fresh per repetition, in alternating
 * order; 10 keep-alive connections of HTTP `GET /v4/keyvalues/:ns?key=`; CPU of the server process from
 * /proc per answered request. The line count of each server's stdout is checked against the requests, so
 * the subject did write its lines.
 *
 *   node dist-bench/spec/bench/audit.js [--quick] [--no-write]
 * Writes spec/bench/results/audit.md.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startApp } from '../../src/app.js'
import { modules } from '../../src/capabilities/index.js'
import { createLogger } from '../../src/log.js'
import { benchConfig } from './bench-config.js'
import { httpGetLoad, type LoadResult } from './load.js'
import { procProbe } from './proc.js'
import { fmtMs, fmtNumber, fmtRatio, median } from './stats.js'

const SELF = fileURLToPath(import.meta.url)
const CONNECTIONS = 10
/** Audit on ÷ off, server CPU per request. */
const TARGET = 1.05

/** Child mode: sensebus with logs at info on stdout, audit lines on or off; one key to read. */
async function serve(audit: boolean): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sensebus-audit-bench-'))
  const config = benchConfig(dataDir, { 'log.level': 'info', 'security.audit.log': audit })
  const app = await startApp({ config, log: createLogger({ level: 'info', format: 'json' }), modules })
  const port = app.endpoints.http?.port
  const res = await fetch(`http://127.0.0.1:${port}/v4/keyvalues/bench`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key: 'k', value: 'v'.repeat(64) }),
  })
  if (res.status !== 201) throw new Error(`setting the bench key answered ${res.status}`)
  process.send?.({ port })
  process.on('message', async () => {
    await app.stop()
    await rm(dataDir, { recursive: true, force: true })
    process.exit(0)
  })
}

interface Side {
  result: LoadResult
  /** Lines the server wrote to stdout during the whole run (start-up and shutdown lines included). */
  lines: number
  requests: number
}

async function measure(audit: boolean, win: { warmupMs: number; durationMs: number }): Promise<Side> {
  const dir = await mkdtemp(join(tmpdir(), 'sensebus-audit-bench-out-'))
  const outFile = join(dir, 'stdout.log')
  const out = openSync(outFile, 'w')
  const child: ChildProcess = fork(SELF, ['--serve', audit ? 'on' : 'off'], {
    stdio: ['ignore', out, 'inherit', 'ipc'],
  })
  try {
    const port = await new Promise<number>((res, rej) => {
      child.once('exit', (code) => rej(new Error(`server exited (${code}) before it was ready`)))
      child.once('message', (m) => res((m as { port: number }).port))
    })
    const url = `http://127.0.0.1:${port}/v4/keyvalues/bench?key=k`
    const result = await httpGetLoad(
      url,
      CONNECTIONS,
      win,
      procProbe([child.pid as number]),
      (status) => status === 200,
    )
    const exited = new Promise<void>((r) => child.once('exit', () => r()))
    child.send('stop')
    await exited
    const lines = readFileSync(outFile, 'utf8').split('\n').filter(Boolean).length
    // The warm-up's requests are audited too: count them from the measured rate.
    const requests = Math.round(result.rate * ((win.warmupMs + win.durationMs) / 1000))
    return { result, lines, requests }
  } finally {
    closeSync(out)
    if (child.exitCode === null) child.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  }
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick')
  const write = !process.argv.includes('--no-write') && !quick
  const reps = quick ? 1 : 3
  const win = quick ? { warmupMs: 300, durationMs: 1_000 } : { warmupMs: 500, durationMs: 3_000 }
  const before = loadavg()
  const on: Side[] = []
  const off: Side[] = []
  for (let r = 0; r < reps; r++) {
    // Alternate which goes first, so drift on a busy host does not favour one side.
    for (const audit of r % 2 === 0 ? [true, false] : [false, true]) (audit ? on : off).push(await measure(audit, win))
    console.error(`[bench] audit rep ${r + 1}/${reps} done`)
  }
  const report = render(on, off, reps, before, loadavg())
  if (write) await writeFile(resolve(process.cwd(), 'spec/bench/results/audit.md'), report)
  console.log(report)
}

function render(on: Side[], off: Side[], reps: number, before: number[], after: number[]): string {
  const cpu = on.map((s, i) => s.result.serverCpuUsPerOp / (off[i] as Side).result.serverCpuUsPerOp)
  const rate = on.map((s, i) => s.result.rate / (off[i] as Side).result.rate)
  const ratio = median(cpu)
  const m = (sides: Side[], f: (r: LoadResult) => number) => median(sides.map((s) => f(s.result)))
  const row = (name: string, sides: Side[]) =>
    `| ${name} | ${fmtNumber(m(sides, (r) => r.rate))} | ${fmtMs(m(sides, (r) => r.p50))} / ` +
    `${fmtMs(m(sides, (r) => r.p99))} | ${fmtNumber(m(sides, (r) => r.serverCpuUsPerOp))} | ` +
    `${sides.map((s) => `${fmtNumber(s.lines)} / ~${fmtNumber(s.requests)}`).join(', ')} | ` +
    `${sides.reduce((n, s) => n + s.result.errors, 0)} |`
  return [
    '# Audit cost per request (issue #10)',
    '',
    `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.split(' ').slice(0, 2).join(' ')}, ` +
      `${new Date().toISOString()}, ${reps} repetition(s), medians of per-repetition ratios. ` +
      `HTTP \`GET /v4/keyvalues/bench?key=k\` on ${CONNECTIONS} keep-alive connections, closed loop. Subject: ` +
      'sensebus on defaults with logs at info on stdout (to a file), audit line per request on (the default); ' +
      'baseline: the same with `security.audit.log: false`. Each side a fresh process per repetition.',
    '',
    '| sensebus | req/s | p50 / p99 | server CPU µs/req | stdout lines / requests, per repetition | errors |',
    '| --- | --- | --- | --- | --- | --- |',
    row('audit on (default)', on),
    row('audit off (baseline)', off),
    '',
    '| check | ratio | per repetition | target | verdict |',
    '| --- | --- | --- | --- | --- |',
    `| server CPU per request, audit on ÷ off | **${fmtRatio(ratio)}** | ` +
      `${cpu.map((x) => x.toFixed(3)).join(' / ')} | ≤ ${TARGET} | ${ratio <= TARGET ? 'PASS' : '**FAIL**'} |`,
    `| throughput, audit on ÷ off | ${fmtRatio(median(rate))} | ${rate.map((x) => x.toFixed(3)).join(' / ')} | | |`,
    '',
    `Load average before / after: ${before[0]?.toFixed(2)} / ${after[0]?.toFixed(2)}.`,
    '',
  ].join('\n')
}

if (process.argv[2] === '--serve') await serve(process.argv[3] === 'on')
else await main()
