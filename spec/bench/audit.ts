/**
 * What the audit line costs a request (issue #10: "audit stays on but costs ≤ 5% of a request").
 * Subject: sensebus with its default audit (`security.audit.log: true`, one JSON line per request at info
 * level, written to stdout as `sensebus start` does, stdout going to a file as under a service manager).
 * Baseline: the same with `security.audit.log: false`. Four instances in one server process, started in the
 * order on, off, off, on, each measured once per repetition in a rotating order; 10 keep-alive connections
 * of HTTP `GET /v4/keyvalues/:ns?key=`; CPU of the server process from /proc per answered request. The two
 * instances of each side also give an A/A control (same config, different instance) printed next to the
 * verdict, so the noise between instances is visible in the same run. The line count of the server's stdout
 * is checked against the requests, so the subject did write its lines.
 *
 *   node dist-bench/spec/bench/audit.js [--quick] [--no-write] [--control]
 * `--control` turns the audit off in all four (the on÷off ratio should then be 1).
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

/** Start order of the instances (ABBA): neither side gains from being started first or last. */
const SIDES = [true, false, false, true] as const

/**
 * Child mode: four sensebus instances in this one process, logs at info on stdout, two with the audit line on
 * and two with it off, each with one key to read. One process for all: fresh processes differ by up to ±45%
 * in CPU per request between themselves (an A/A run of an earlier one-process-per-side design), which hides
 * a 5% effect; here every side shares the process, its compiled code and its collector. Two instances per
 * side, started ABBA: an A/A run of a two-instance design (audit off in both) printed 1.15×, so the instance
 * itself, not only its config, moves the figure.
 */
async function serve(control: boolean): Promise<void> {
  const log = createLogger({ level: 'info', format: 'json' })
  const started: Array<{ stop(): Promise<void> }> = []
  const ports: number[] = []
  for (const audit of SIDES) {
    const dataDir = await mkdtemp(join(tmpdir(), 'sensebus-audit-bench-'))
    const config = benchConfig(dataDir, { 'log.level': 'info', 'security.audit.log': audit && !control })
    const app = await startApp({ config, log, modules })
    started.push({ stop: () => app.stop().then(() => rm(dataDir, { recursive: true, force: true })) })
    const port = app.endpoints.http?.port
    const res = await fetch(`http://127.0.0.1:${port}/v4/keyvalues/bench`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: 'k', value: 'v'.repeat(64) }),
    })
    if (res.status !== 201) throw new Error(`setting the bench key answered ${res.status}`)
    ports.push(port as number)
  }
  process.send?.(ports)
  process.on('message', async () => {
    for (const app of started) await app.stop()
    process.exit(0)
  })
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick')
  const control = process.argv.includes('--control')
  const write = !process.argv.includes('--no-write') && !quick && !control
  // A multiple of four, so each instance is measured in each position of the rotation equally often.
  const reps = quick ? 4 : 8
  const win = quick ? { warmupMs: 300, durationMs: 1_000 } : { warmupMs: 500, durationMs: 2_000 }
  const before = loadavg()
  const dir = await mkdtemp(join(tmpdir(), 'sensebus-audit-bench-out-'))
  const outFile = join(dir, 'stdout.log')
  const out = openSync(outFile, 'w')
  const args = ['--serve', ...(control ? ['--control'] : [])]
  const child: ChildProcess = fork(SELF, args, { stdio: ['ignore', out, 'inherit', 'ipc'] })
  /** Per repetition, the result of each instance, in start order. */
  const runs: LoadResult[][] = []
  let auditedRequests = 0
  let auditLines = 0
  try {
    const ports = await new Promise<number[]>((res, rej) => {
      child.once('exit', (code) => rej(new Error(`server exited (${code}) before it was ready`)))
      child.once('message', (m) => res(m as number[]))
    })
    const probe = procProbe([child.pid as number])
    const load = (port: number) =>
      httpGetLoad(`http://127.0.0.1:${port}/v4/keyvalues/bench?key=k`, CONNECTIONS, win, probe, (s) => s === 200)
    // One unmeasured round first: the process' code is compiled and its heap grown for every instance alike.
    for (const port of ports) await load(port)
    for (let r = 0; r < reps; r++) {
      const results: LoadResult[] = []
      for (let k = 0; k < ports.length; k++) {
        const i = (r + k) % ports.length
        results[i] = await load(ports[i] as number)
      }
      runs.push(results)
      console.error(`[bench] audit rep ${r + 1}/${reps} done`)
    }
    const exited = new Promise<void>((r) => child.once('exit', () => r()))
    child.send('stop')
    await exited
    auditLines = readFileSync(outFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"area":"audit"')).length
    // Measured windows only; the warm-ups' requests are audited too, counted from the measured rate.
    const seconds = (win.warmupMs + win.durationMs) / 1000
    for (const results of runs)
      for (const [i, r] of results.entries()) if (SIDES[i] && !control) auditedRequests += Math.round(r.rate * seconds)
  } finally {
    closeSync(out)
    if (child.exitCode === null) child.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  }
  const report = render(runs, control, { auditLines, auditedRequests }, before, loadavg())
  if (write) await writeFile(resolve(process.cwd(), 'spec/bench/results/audit.md'), report)
  console.log(report)
}

const cpuOf = (r: LoadResult | undefined) => (r as LoadResult).serverCpuUsPerOp
const rateOf = (r: LoadResult | undefined) => (r as LoadResult).rate

function render(
  runs: LoadResult[][],
  control: boolean,
  written: { auditLines: number; auditedRequests: number },
  before: number[],
  after: number[],
): string {
  const onIdx = SIDES.flatMap((audit, i) => (audit ? [i] : []))
  const offIdx = SIDES.flatMap((audit, i) => (audit ? [] : [i]))
  const sum = (rs: LoadResult[], idx: number[], f: (r: LoadResult | undefined) => number) =>
    idx.reduce((n, i) => n + f(rs[i]), 0)
  // Per repetition: the two instances of a side together, CPU per request and throughput.
  const cpu = runs.map((rs) => sum(rs, onIdx, cpuOf) / sum(rs, offIdx, cpuOf))
  const rate = runs.map((rs) => sum(rs, onIdx, rateOf) / sum(rs, offIdx, rateOf))
  // A/A: the same config in two instances; how far apart two instances land when nothing differs.
  const [on1, on2] = onIdx as [number, number]
  const [off1, off2] = offIdx as [number, number]
  const aaOn = runs.map((rs) => cpuOf(rs[on2]) / cpuOf(rs[on1]))
  const aaOff = runs.map((rs) => cpuOf(rs[off2]) / cpuOf(rs[off1]))
  const ratio = median(cpu)
  const per = (xs: number[]) => xs.map((x) => x.toFixed(3)).join(' / ')
  const row = (name: string, i: number) => {
    const side = runs.map((rs) => rs[i] as LoadResult)
    const m = (f: (r: LoadResult) => number) => median(side.map(f))
    return (
      `| ${name} | ${fmtNumber(m((r) => r.rate))} | ${fmtMs(m((r) => r.p50))} / ${fmtMs(m((r) => r.p99))} | ` +
      `${fmtNumber(m((r) => r.serverCpuUsPerOp))} | ${side.reduce((n, r) => n + r.errors, 0)} |`
    )
  }
  const label = (i: number) =>
    `${i + 1}: audit ${SIDES[i] && !control ? 'on (default)' : 'off'}` +
    (control && SIDES[i] ? ' (on side; control run)' : '')
  return [
    `# Audit cost per request (issue #10)${control ? ': CONTROL RUN, audit off everywhere' : ''}`,
    '',
    `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.split(' ').slice(0, 2).join(' ')}, ` +
      `${new Date().toISOString()}, ${runs.length} repetitions, medians (mean of the middle two). ` +
      `HTTP \`GET /v4/keyvalues/bench?key=k\` on ${CONNECTIONS} keep-alive connections, closed loop. One server ` +
      'process holds four sensebus instances on defaults with logs at info on stdout (to a file), started in the ' +
      'order below: 1 and 4 write the audit line per request (the default), 2 and 3 have ' +
      '`security.audit.log: false` (baseline). Each repetition measures all four, starting one further along ' +
      'each time. Per repetition, a side is its two instances together.',
    '',
    '| instance | req/s | p50 / p99 | server CPU µs/req | errors |',
    '| --- | --- | --- | --- | --- |',
    ...SIDES.map((_, i) => row(label(i), i)),
    '',
    '| check | ratio | per repetition | target | verdict |',
    '| --- | --- | --- | --- | --- |',
    `| server CPU per request, audit on ÷ off | **${fmtRatio(ratio)}** | ${per(cpu)} | ≤ ${TARGET} | ` +
      `${ratio <= TARGET ? 'PASS' : '**FAIL**'} |`,
    `| throughput, audit on ÷ off | ${fmtRatio(median(rate))} | ${per(rate)} | | |`,
    `| A/A control: instance 4 ÷ 1 (same config) | ${fmtRatio(median(aaOn))} | ${per(aaOn)} | | |`,
    `| A/A control: instance 3 ÷ 2 (same config) | ${fmtRatio(median(aaOff))} | ${per(aaOff)} | | |`,
    '',
    `Audit lines written: ${fmtNumber(written.auditLines)}, for about ${fmtNumber(written.auditedRequests)} ` +
      'requests to the audit-on instances in the measured repetitions (plus their warm-ups and the unmeasured ' +
      `round). Load average before / after: ${before[0]?.toFixed(2)} / ${after[0]?.toFixed(2)}.`,
    '',
  ].join('\n')
}

if (process.argv[2] === '--serve') await serve(process.argv.includes('--control'))
else await main()
