/**
 * `npm run bench` (after alerts.ts), or alone: `node dist-bench/spec/bench/tasks.js [--quick] [--no-write]`.
 *
 * Starting tasks (issue #11), against the Sense simulator:
 * 1. 100 concurrent `task/start` requests (each a different task, so none is already running), from four
 *    MQTT clients, answered once QRS has started the run: throughput (requests ÷ the burst's wall time)
 *    and p99 latency, each as a ratio to 100 concurrent `util/ping` requests from the same clients in the
 *    same round. util/ping crosses the same broker, dispatcher and admission, and does no Sense work.
 * 2. For each of those runs, the time from its end in the simulator (the execution result's stopTime) to
 *    `sense/event/task/finished` reaching a subscriber: p50 and p99, with sensebus' default poll interval.
 * Two processes: sensebus (forked, defaults but jobs.maxRunning, see below) and this one (the simulator and
 * the clients; the simulator's clock and the subscriber's are the same clock).
 */
import { fork } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { parse, stringify } from 'yaml'
import { MqttBus } from '../../src/broker/mqtt-bus.js'
import { startApp } from '../../src/app.js'
import { modules } from '../../src/capabilities/index.js'
import { createTopics } from '../../src/core/topics.js'
import { silentLogger } from '../../src/log.js'
import { startSimulator } from '../../src/sim/index.js'
import { fmtMs, fmtNumber, fmtRatio, medianOf, quantile } from './stats.js'
import { benchConfig } from './bench-config.js'

const SELF = fileURLToPath(import.meta.url)
const DEMO = fileURLToPath(new URL('../../../src/sim/fixtures/demo.yaml', import.meta.url))
const CONCURRENT = 100
const CLIENTS = 4
const POLL_MS = 1_000 // capabilities.task.pollIntervalMs default
/** End → event: one poll period, plus half of one for the QRS query and the publish. */
const EVENT_P99_TARGET_MS = 1.5 * POLL_MS

/** Child mode: sensebus on its defaults, pointed at the simulator. */
async function serve(qrsPort: number, enginePort: number, certDir: string): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sensebus-tasks-bench-'))
  const config = benchConfig(dataDir, {
    'capabilities.alert.udp.port': 0,
    'sense.host': '127.0.0.1',
    'sense.qrs.port': qrsPort,
    'sense.engine.port': enginePort,
    'sense.certs.dir': certDir,
    // Every started task is a job until its run ends; the default (64) would answer part of a burst of
    // 100 with BUSY, which is that limit working, not the cost of a start.
    'jobs.maxRunning': 256,
  })
  const app = await startApp({ config, log: silentLogger(), modules })
  process.send?.({ mqttPort: app.endpoints.mqtt?.port })
  process.on('message', async () => {
    await app.stop()
    await rm(dataDir, { recursive: true, force: true })
    process.exit(0)
  })
}

/** The demo site plus CONCURRENT plain reload tasks that chain nothing, 200 ms each. */
async function fixture(dir: string): Promise<{ path: string; taskIds: string[] }> {
  const site = parse(await readFile(DEMO, 'utf8')) as { tasks: Record<string, unknown>[] }
  const taskIds = Array.from({ length: CONCURRENT }, (_, i) => `b0000000-0000-4000-8000-${String(i).padStart(12, '0')}`)
  site.tasks.push(
    ...taskIds.map((id, i) => ({
      id,
      name: `Bench task ${i}`,
      app: 'Sales dashboard',
      behaviour: { outcome: 'success', durationMs: 200 },
    })),
  )
  const path = join(dir, 'bench-site.yaml')
  await writeFile(path, stringify(site))
  return { path, taskIds }
}

interface Burst {
  latencies: number[]
  wallMs: number
  failures: string[]
}

async function burst(
  clients: MqttBus[],
  build: (i: number) => { capability: string; body: Record<string, unknown> },
  accept: (data: unknown) => string | undefined,
): Promise<Burst & { data: unknown[] }> {
  const started = performance.now()
  const latencies: number[] = []
  const failures: string[] = []
  const data: unknown[] = []
  await Promise.all(
    Array.from({ length: CONCURRENT }, async (_, i) => {
      const { capability, body } = build(i)
      const t0 = performance.now()
      const env = await (clients[i % clients.length] as MqttBus).request(capability, body, { timeoutMs: 30_000 })
      latencies.push(performance.now() - t0)
      if (env.status === 'error') failures.push(`${env.error.code}: ${env.error.message}`)
      else {
        const why = accept(env.data)
        if (why) failures.push(why)
        data.push(env.data)
      }
    }),
  )
  return { latencies, wallMs: performance.now() - started, failures, data }
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick')
  const write = !process.argv.includes('--no-write') && !quick
  const rounds = quick ? 1 : 5
  const loadBefore = loadavg()[0] as number
  const dir = await mkdtemp(join(tmpdir(), 'sensebus-tasks-bench-sim-'))
  const site = await fixture(dir)
  const sim = await startSimulator({
    certDir: join(dir, 'certs'),
    fixture: site.path,
    qrsPort: 0,
    enginePort: 0,
    controlPort: 0,
    udpTarget: { host: '127.0.0.1', port: 9 },
    log: silentLogger(),
  })
  const server = fork(
    SELF,
    ['--serve', String(sim.settings.qrsPort), String(sim.settings.enginePort), join(dir, 'certs')],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  )
  let crashed = false
  server.on('exit', (code) => {
    if (code !== 0) crashed = true
  })
  const mqttPort = await new Promise<number>((res, rej) => {
    server.once('message', (m: { mqttPort: number }) => res(m.mqttPort))
    server.once('exit', (code) => rej(new Error(`sensebus exited (${code})`)))
  })
  const connect = (name: string) =>
    MqttBus.connect(
      {
        url: `mqtt://127.0.0.1:${mqttPort}`,
        clientId: `bench-tasks-${name}`,
        defaultTimeoutMs: 30_000,
        log: silentLogger(),
        connectOptions: { reconnectPeriod: 0 },
      },
      createTopics('sense'),
    )
  const clients = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => connect(String(i))))
  const watcher = await connect('events')
  const finishedAt = new Map<string, { at: number; endedAt: string }>()
  await watcher.subscribe('sense/event/task/+', (msg) => {
    if (!msg.topic.endsWith('/finished') && !msg.topic.endsWith('/failed')) return
    const at = Date.now()
    const { data } = JSON.parse(msg.payload.toString()) as { data: { executionId: string; endedAt: string } }
    finishedAt.set(data.executionId.toLowerCase(), { at, endedAt: data.endedAt })
  })

  const ping = () =>
    burst(
      clients,
      () => ({ capability: 'util/ping', body: {} }),
      () => undefined,
    )
  const start = () =>
    burst(
      clients,
      (i) => ({ capability: 'task/start', body: { taskIds: [site.taskIds[i]] } }),
      (data) => {
        const item = (data as { items: { status: string }[] }).items[0]
        return item?.status === 'started' ? undefined : `not started: ${JSON.stringify(item)}`
      },
    )
  const executionsOf = (b: { data: unknown[] }) =>
    b.data.flatMap((d) => (d as { items: { executionId?: string }[] }).items.map((i) => i.executionId ?? ''))
  const allFinished = async (ids: string[], deadlineMs: number) => {
    const until = performance.now() + deadlineMs
    while (performance.now() < until) {
      if (ids.every((id) => finishedAt.has(id.toLowerCase()))) return true
      await new Promise((r) => setTimeout(r, 50))
    }
    return false
  }

  // Warm-up: one round of each, not counted (connections, JIT, the QRS agent's sockets).
  await ping()
  await allFinished(executionsOf(await start()), 30_000)

  const results: { ping: Burst; start: Burst; eventMs: number[]; missing: number }[] = []
  for (let r = 0; r < rounds; r++) {
    const p = await ping()
    const s = await start()
    const ids = executionsOf(s)
    await allFinished(ids, 30_000)
    const eventMs = ids.flatMap((id) => {
      const seen = finishedAt.get(id.toLowerCase())
      return seen ? [seen.at - Date.parse(seen.endedAt)] : []
    })
    results.push({ ping: p, start: s, eventMs, missing: ids.length - eventMs.length })
  }

  for (const c of [...clients, watcher]) await c.close()
  if (server.exitCode === null) server.send('stop')
  await new Promise((r) => (server.exitCode === null ? server.once('exit', r) : r(undefined)))
  await sim.close()
  await rm(dir, { recursive: true, force: true })

  const rate = (b: Burst) => CONCURRENT / (b.wallMs / 1000)
  const p99 = (b: Burst) => quantile(b.latencies, 0.99)
  const throughputRatio = medianOf(results.map((r) => rate(r.start) / rate(r.ping)))
  const p99Ratio = medianOf(results.map((r) => p99(r.start) / p99(r.ping)))
  const eventMs = results.flatMap((r) => r.eventMs)
  const eventP99 = quantile(eventMs, 0.99)
  const failures = results.flatMap((r) => [...r.start.failures, ...r.ping.failures])
  const missing = results.reduce((n, r) => n + r.missing, 0)
  const eventOk = eventP99 <= EVENT_P99_TARGET_MS && missing === 0
  const perRound = (f: (r: (typeof results)[number]) => number) => results.map((r) => f(r).toFixed(2)).join(' / ')
  const lines = [
    '# Tasks benchmark (issue #11)',
    '',
    `${CONCURRENT} concurrent requests from ${CLIENTS} MQTT clients against sensebus (own process, defaults but ` +
      'jobs.maxRunning 256) and the Sense simulator; each round a util/ping burst, then a task/start burst ' +
      `(${CONCURRENT} different tasks, 200 ms runs). Ratios: median over ${rounds} round(s) of the per-round ` +
      'ratio task/start ÷ util/ping.',
    '',
    '| measure | value | target |',
    '| --- | --- | --- |',
    `| task/start throughput ÷ util/ping | ${fmtRatio(throughputRatio)} ` +
      `(${fmtNumber(medianOf(results.map((r) => rate(r.start))))} vs ` +
      `${fmtNumber(medianOf(results.map((r) => rate(r.ping))))} req/s; per round ` +
      `${perRound((r) => rate(r.start) / rate(r.ping))}) | |`,
    `| task/start p99 ÷ util/ping p99 | ${fmtRatio(p99Ratio)} ` +
      `(${fmtMs(medianOf(results.map((r) => p99(r.start))))} vs ` +
      `${fmtMs(medianOf(results.map((r) => p99(r.ping))))}; per round ` +
      `${perRound((r) => p99(r.start) / p99(r.ping))}) | |`,
    `| requests not ok (error, or a task not started) | ${failures.length} | ` +
      `0 ${failures.length ? '**FAIL**' : 'PASS'} |`,
    `| task end in Sense → sense/event/task/finished, p50 | ${fmtMs(quantile(eventMs, 0.5))} | |`,
    `| task end in Sense → sense/event/task/finished, p99 | ${fmtMs(eventP99)} (poll interval ` +
      `${fmtNumber(POLL_MS)} ms) | ≤ ${fmtNumber(EVENT_P99_TARGET_MS)} ms ${eventOk ? 'PASS' : '**FAIL**'} |`,
    `| runs whose event did not come within 30 s | ${missing} | 0 |`,
    `| crashes | ${crashed ? 1 : 0} | 0 |`,
    `| load average before / after | ${loadBefore.toFixed(2)} / ${(loadavg()[0] as number).toFixed(2)} | |`,
    '',
  ]
  if (failures.length) lines.push(`First failures: ${failures.slice(0, 3).join('; ')}`, '')
  const report = lines.join('\n')
  process.stdout.write(`${report}\n`)
  if (write) {
    const out = resolve(process.cwd(), 'spec/bench/results/tasks.md')
    await mkdir(dirname(out), { recursive: true })
    await writeFile(out, report)
  }
  process.exit(crashed || failures.length > 0 || !eventOk ? 1 : 0)
}

if (process.argv[2] === '--serve') await serve(Number(process.argv[3]), Number(process.argv[4]), process.argv[5] ?? '')
else await main()
