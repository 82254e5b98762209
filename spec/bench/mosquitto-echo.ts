/**
 * MQTT request/response against the setup people would build without sensebus: Mosquitto plus an
 * external echo client (mqtt.js in a process of its own that answers each request on a reply topic).
 * Subject: sensebus answering `kv/get` on its embedded broker (forked, defaults). The same closed-loop
 * generator (load.ts) drives both at 1, 16 and 64 in flight; CPU is read from /proc for the serving side
 * (sensebus; Mosquitto + the echo process), so "CPU per request" compares whole setups.
 *
 *   node dist-bench/spec/bench/mosquitto-echo.js [--quick]
 * Writes spec/bench/results/mosquitto-echo.md.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import mqtt from 'mqtt'
import { startApp } from '../../src/app.js'
import { modules } from '../../src/capabilities/index.js'
import { systemIdentity } from '../../src/core/identity.js'
import { silentLogger } from '../../src/log.js'
import { startMosquitto } from '../helpers/mosquitto.js'
import { benchConfig } from './bench-config.js'
import { type LoadResult, type MqttTarget, mqttRequestLoad } from './load.js'
import { childNamed, procProbe } from './proc.js'
import { fmtMs, fmtNumber, fmtRatio, median } from './stats.js'

const SELF = fileURLToPath(import.meta.url)
const REQUEST = 'bench/echo/request'
const RESPONSE = 'bench/echo/response'
const IN_FLIGHT = [1, 16, 64] as const
const TARGET = 1.0

/** Child mode 1: the echo client, answering every request on the reply topic with the same bytes. */
async function echo(url: string): Promise<void> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0 })
  ;(client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true)
  client.on('message', (_topic, payload) => client.publish(RESPONSE, payload, { qos: 1 }))
  await client.subscribeAsync(REQUEST, { qos: 1 })
  process.send?.({ ready: true })
}

/** Child mode 2: sensebus with one key to read. */
async function serve(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sensebus-mosq-echo-bench-'))
  const app = await startApp({ config: benchConfig(dataDir), log: silentLogger(), modules })
  const url = `mqtt://127.0.0.1:${app.endpoints.mqtt?.port}`
  const reply = await app.bus.request(
    'kv/set',
    { namespace: 'bench', key: 'k', value: 'v'.repeat(64) },
    { identity: systemIdentity('bench') },
  )
  if (reply.status !== 'ok') throw new Error(`kv/set failed: ${JSON.stringify(reply)}`)
  process.send?.({ ready: true, url })
  process.on('message', async () => {
    await app.stop()
    await rm(dataDir, { recursive: true, force: true })
    process.exit(0)
  })
}

function startChild<T>(args: string[]): Promise<{ child: ChildProcess; ready: T }> {
  const child = fork(SELF, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return new Promise((res, rej) => {
    child.once('exit', (code) => rej(new Error(`child ${args[0]} exited (${code}) before it was ready`)))
    child.once('message', (m) => res({ child, ready: m as T }))
  })
}

interface Row {
  inFlight: number
  sensebus: LoadResult[]
  mosquitto: LoadResult[]
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick')
  // Even, so each side goes first equally often.
  const reps = quick ? 1 : 4
  const window = quick ? { warmupMs: 300, durationMs: 800 } : { warmupMs: 500, durationMs: 1500 }
  const before = loadavg()
  const mosquitto = await startMosquitto()
  const echoer = await startChild<{ ready: true }>(['--echo', mosquitto.url])
  const app = await startChild<{ url: string }>(['--serve']).catch(async (err: unknown) => {
    echoer.child.kill('SIGTERM')
    await mosquitto.stop()
    throw err
  })
  const brokerPid = childNamed('mosquitto')
  const sensebusProbe = procProbe([app.child.pid as number])
  const baselineProbe = procProbe([brokerPid, echoer.child.pid as number])
  const kvBody = (tx: string) => JSON.stringify({ namespace: 'bench', key: 'k', transaction: tx })
  const kvget: MqttTarget = {
    request: 'sense/request/kv/get',
    response: 'sense/response/kv/get',
    body: kvBody,
    ok: (a) => a.status === 'ok',
  }
  const echoTarget: MqttTarget = { request: REQUEST, response: RESPONSE, body: kvBody, ok: () => true }
  const rows: Row[] = IN_FLIGHT.map((inFlight) => ({ inFlight, sensebus: [], mosquitto: [] }))
  try {
    // One unmeasured pass over every row and side first: the first measured repetition ran slow in every run
    // (sensebus at 1 in flight, 0.44–0.49 of the others), as its code was still being compiled.
    if (!quick) {
      for (const row of rows) {
        await mqttRequestLoad(app.ready.url, kvget, row.inFlight, window, sensebusProbe)
        await mqttRequestLoad(mosquitto.url, echoTarget, row.inFlight, window, baselineProbe)
      }
      console.error('[bench] mosquitto-echo warm-up pass (not measured) done')
    }
    for (let r = 0; r < reps; r++) {
      for (const row of rows) {
        // Alternate which goes first, so drift on a busy host does not favour one side.
        const order = r % 2 === 0 ? (['sensebus', 'mosquitto'] as const) : (['mosquitto', 'sensebus'] as const)
        for (const side of order) {
          const result =
            side === 'sensebus'
              ? await mqttRequestLoad(app.ready.url, kvget, row.inFlight, window, sensebusProbe)
              : await mqttRequestLoad(mosquitto.url, echoTarget, row.inFlight, window, baselineProbe)
          row[side].push(result)
        }
      }
      console.error(`[bench] mosquitto-echo rep ${r + 1}/${reps} done`)
    }
  } finally {
    app.child.send('stop')
    echoer.child.kill('SIGTERM')
    await mosquitto.stop()
  }
  const report = render(rows, reps, before, loadavg())
  await writeFile(resolve(process.cwd(), 'spec/bench/results/mosquitto-echo.md'), report)
  console.log(report)
}

function render(rows: Row[], reps: number, before: number[], after: number[]): string {
  const perRep = (row: Row, f: (s: LoadResult, m: LoadResult) => number) =>
    row.sensebus.map((s, i) => f(s, row.mosquitto[i] as LoadResult))
  const out = [
    '# MQTT request/response: sensebus vs Mosquitto with an external echo client (issue #10)',
    '',
    `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.split(' ').slice(0, 2).join(' ')}, ` +
      `${new Date().toISOString()}, ${reps} repetition(s) after one unmeasured pass, ` +
      'medians of per-repetition ratios. ' +
      'Subject: `kv/get` on sensebus (forked, defaults, embedded broker). Baseline: Mosquitto + an mqtt.js ' +
      'echo process answering on a reply topic (one network hop more). One mqtt.js client, QoS 1 both ways, ' +
      'closed loop. CPU: the serving side from /proc (sensebus; Mosquitto + echo).',
    '',
    '| in flight | sensebus req/s | Mosquitto+echo req/s | throughput ratio | per repetition | target | verdict |' +
      ' sensebus p50 / p99 | Mosquitto+echo p50 / p99 | CPU µs/req sensebus / baseline |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ]
  for (const row of rows) {
    const ratios = perRep(row, (s, m) => s.rate / m.rate)
    const ratio = median(ratios)
    const s = (f: (r: LoadResult) => number) => median(row.sensebus.map(f))
    const m = (f: (r: LoadResult) => number) => median(row.mosquitto.map(f))
    out.push(
      `| ${row.inFlight} | ${fmtNumber(s((r) => r.rate))} | ${fmtNumber(m((r) => r.rate))} | ` +
        `**${fmtRatio(ratio)}** | ` +
        `${ratios.map((x) => x.toFixed(2)).join(' / ')} | ≥ ${TARGET.toFixed(1)} | ` +
        `${ratio >= TARGET ? 'PASS' : '**FAIL**'} | ${fmtMs(s((r) => r.p50))} / ${fmtMs(s((r) => r.p99))} | ` +
        `${fmtMs(m((r) => r.p50))} / ${fmtMs(m((r) => r.p99))} | ` +
        `${fmtNumber(s((r) => r.serverCpuUsPerOp))} / ${fmtNumber(m((r) => r.serverCpuUsPerOp))} |`,
    )
  }
  const errors = rows.reduce((n, r) => n + [...r.sensebus, ...r.mosquitto].reduce((k, x) => k + x.errors, 0), 0)
  out.push('')
  out.push(
    `Errors (answers that were not ok): ${errors}. Load average before / after: ` +
      `${before[0]?.toFixed(2)} / ${after[0]?.toFixed(2)}.`,
  )
  out.push('')
  return out.join('\n')
}

if (process.argv[2] === '--echo') await echo(process.argv[3] ?? '')
else if (process.argv[2] === '--serve') await serve()
else await main()
