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
import { fmtMs, fmtNumber, fmtRatio } from './stats.js'

const SELF = fileURLToPath(import.meta.url)
const CONNECTIONS = 10
/** Audit on ÷ off, server CPU per request. */
const TARGET = 1.05

/**
 * Child mode: two sensebus instances in this one process, logs at info on stdout, one with the audit line on
 * and one with it off, each with one key to read. One process for both: fresh processes differ by up to ±45%
 * in CPU per request between themselves (an A/A run of the earlier one-process-per-side design), which hides
 * a 5% effect; here both sides share the process, its compiled code and its collector.
 */
async function serve(): Promise<void> {
  const log = createLogger({ level: 'info', format: 'json' })
  const started: Array<{ stop(): Promise<void> }> = []
  const ports: Record<string, number | undefined> = {}
  for (const audit of [true, false]) {
    const dataDir = await mkdtemp(join(tmpdir(), 'sensebus-audit-bench-'))
    const config = benchConfig(dataDir, { 'log.level': 'info', 'security.audit.log': audit })
    const app = await startApp({ config, log, modules })
    started.push({ stop: () => app.stop().then(() => rm(dataDir, { recursive: true, force: true })) })
    const port = app.endpoints.http?.port
    const res = await fetch(`http://127.0.0.1:${port}/v4/keyvalues/bench`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: 'k', value: 'v'.repeat(64) }),
    })
    if (res.status !== 201) throw new Error(`setting the bench key answered ${res.status}`)
    ports[audit ? 'on' : 'off'] = port
  }
  process.send?.(ports)
  process.on('message', async () => {
    for (const app of started) await app.stop()
    process.exit(0)
  })
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick')
  const write = !process.argv.includes('--no-write') && !quick
  // Even, so each side is measured first as often as second.
  const reps = quick ? 2 : 6
  const win = quick ? { warmupMs: 300, durationMs: 1_000 } : { warmupMs: 500, durationMs: 3_000 }
  const before = loadavg()
  const dir = await mkdtemp(join(tmpdir(), 'sensebus-audit-bench-out-'))
  const outFile = join(dir, 'stdout.log')
  const out = openSync(outFile, 'w')
  const child: ChildProcess = fork(SELF, ['--serve'], { stdio: ['ignore', out, 'inherit', 'ipc'] })
  const on: LoadResult[] = []
  const off: LoadResult[] = []
  let auditedRequests = 0
  let auditLines = 0
  try {
    const ports = await new Promise<{ on: number; off: number }>((res, rej) => {
      child.once('exit', (code) => rej(new Error(`server exited (${code}) before it was ready`)))
      child.once('message', (m) => res(m as { on: number; off: number }))
    })
    const probe = procProbe([child.pid as number])
    const load = (port: number) =>
      httpGetLoad(`http://127.0.0.1:${port}/v4/keyvalues/bench?key=k`, CONNECTIONS, win, probe, (s) => s === 200)
    // One unmeasured round first: the process' code is compiled and its heap grown for both sides alike.
    await load(ports.on)
    await load(ports.off)
    for (let r = 0; r < reps; r++) {
      for (const audit of r % 2 === 0 ? [true, false] : [false, true]) {
        const result = await load(audit ? ports.on : ports.off)
        ;(audit ? on : off).push(result)
      }
      console.error(`[bench] audit rep ${r + 1}/${reps} done`)
    }
    const exited = new Promise<void>((r) => child.once('exit', () => r()))
    child.send('stop')
    await exited
    auditLines = readFileSync(outFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"area":"audit"')).length
    // Measured windows only; the warm-ups' requests are audited too, counted from the measured rate.
    auditedRequests = on.reduce((n, r) => n + Math.round(r.rate * ((win.warmupMs + win.durationMs) / 1000)), 0)
  } finally {
    closeSync(out)
    if (child.exitCode === null) child.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  }
  const report = render(on, off, reps, { auditLines, auditedRequests }, before, loadavg())
  if (write) await writeFile(resolve(process.cwd(), 'spec/bench/results/audit.md'), report)
  console.log(report)
}

/** The middle value, or the mean of the middle two for an even count (4 repetitions: no side favoured). */
function middle(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

function render(
  on: LoadResult[],
  off: LoadResult[],
  reps: number,
  written: { auditLines: number; auditedRequests: number },
  before: number[],
  after: number[],
): string {
  const cpu = on.map((r, i) => r.serverCpuUsPerOp / (off[i] as LoadResult).serverCpuUsPerOp)
  const rate = on.map((r, i) => r.rate / (off[i] as LoadResult).rate)
  const ratio = middle(cpu)
  const m = (side: LoadResult[], f: (r: LoadResult) => number) => middle(side.map(f))
  const row = (name: string, side: LoadResult[]) =>
    `| ${name} | ${fmtNumber(m(side, (r) => r.rate))} | ${fmtMs(m(side, (r) => r.p50))} / ` +
    `${fmtMs(m(side, (r) => r.p99))} | ${fmtNumber(m(side, (r) => r.serverCpuUsPerOp))} | ` +
    `${side.reduce((n, r) => n + r.errors, 0)} |`
  return [
    '# Audit cost per request (issue #10)',
    '',
    `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.split(' ').slice(0, 2).join(' ')}, ` +
      `${new Date().toISOString()}, ${reps} repetitions in alternating order, medians (mean of the middle two). ` +
      `HTTP \`GET /v4/keyvalues/bench?key=k\` on ${CONNECTIONS} keep-alive connections, closed loop. One server ` +
      'process holds two sensebus instances on defaults with logs at info on stdout (to a file): one writes the ' +
      'audit line per request (the default), the other has `security.audit.log: false` (baseline).',
    '',
    '| sensebus | req/s | p50 / p99 | server CPU µs/req | errors |',
    '| --- | --- | --- | --- | --- |',
    row('audit on (default)', on),
    row('audit off (baseline)', off),
    '',
    '| check | ratio | per repetition | target | verdict |',
    '| --- | --- | --- | --- | --- |',
    `| server CPU per request, audit on ÷ off | **${fmtRatio(ratio)}** | ` +
      `${cpu.map((x) => x.toFixed(3)).join(' / ')} | ≤ ${TARGET} | ${ratio <= TARGET ? 'PASS' : '**FAIL**'} |`,
    `| throughput, audit on ÷ off | ${fmtRatio(middle(rate))} | ${rate.map((x) => x.toFixed(3)).join(' / ')} | | |`,
    '',
    `Audit lines written: ${fmtNumber(written.auditLines)}, for about ${fmtNumber(written.auditedRequests)} ` +
      'requests to the audit-on instance in the measured repetitions (plus its warm-ups and the unmeasured ' +
      `round). Load average before / after: ${before[0]?.toFixed(2)} / ${after[0]?.toFixed(2)}.`,
    '',
  ].join('\n')
}

if (process.argv[2] === '--serve') await serve()
else await main()
