/**
 * A fresh subscriber to the whole KV mirror, sensebus against Mosquitto holding the same retained messages
 * (issue #10: "a fresh subscriber to 100k keys within 1.5× Mosquitto's time").
 *
 * sensebus (forked, defaults) starts on a data dir holding 100,000 keys (100 namespaces × 1,000, written
 * straight into the store by store-child.ts), so its mirror is seeded from the store at start. Mosquitto
 * (the specs' config: loopback, no persistence) gets the very same topics and payloads, copied by a client
 * from sensebus' mirror. Then, per repetition, subscriber and QoS (1, then 0), a fresh clean-session
 * subscriber subscribes to `sense/state/kv/#` on each broker, alternating which goes first: the time from
 * SUBSCRIBE until the last retained message arrived, the broker's CPU over it (/proc), and the subscriber's
 * own CPU (this process does nothing else meanwhile). Two subscribers: mqtt.js (TCP_NODELAY), what users
 * run; and a raw-socket one that only counts packets and acknowledges all QoS 1 messages of a read in one
 * write (raw-mqtt.ts), so the time is the broker's rather than the client's.
 *
 *   node dist-bench/spec/bench/retained-mosquitto.js [--quick] [--no-write]
 * Writes spec/bench/results/retained-mosquitto.md (not with --quick: 10,000 keys, 1 repetition).
 */
import { type ChildProcess, execFile, fork } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import type { MqttClient } from 'mqtt'
import { startApp } from '../../src/app.js'
import { modules } from '../../src/capabilities/index.js'
import { silentLogger } from '../../src/log.js'
import { startMosquitto } from '../helpers/mosquitto.js'
import { benchConfig } from './bench-config.js'
import { connectMqtt, type Probe } from './load.js'
import { childNamed, procProbe } from './proc.js'
import { CountingSubscriber } from './raw-mqtt.js'
import { fmtMs, fmtNumber, fmtRatio, median } from './stats.js'

const SELF = fileURLToPath(import.meta.url)
const STORE_CHILD = fileURLToPath(new URL('./store-child.js', import.meta.url))
const FILTER = 'sense/state/kv/#'
const TARGET = 1.5
/** A delivery that has not finished by then counts as failed (the original observation was 2.7 s). */
const TIMEOUT_MS = 60_000

/** Child mode: sensebus on a data dir that already holds the keys. */
async function serve(dataDir: string): Promise<void> {
  const app = await startApp({ config: benchConfig(dataDir), log: silentLogger(), modules })
  process.send?.({ url: `mqtt://127.0.0.1:${app.endpoints.mqtt?.port}` })
  process.on('message', async () => {
    await app.stop()
    process.exit(0)
  })
}

function startServer(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(SELF, ['--serve', dataDir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return new Promise((res, rej) => {
    child.once('exit', (code) => rej(new Error(`sensebus exited (${code}) before it was ready`)))
    child.once('message', (m) => res({ child, url: (m as { url: string }).url }))
  })
}

function populate(dataDir: string, keys: number): Promise<void> {
  return new Promise((res, rej) =>
    execFile(process.execPath, [STORE_CHILD, 'populate', dataDir, String(keys)], { timeout: 300_000 }, (err) =>
      err ? rej(err) : res(),
    ),
  )
}

/** Counts messages on `client` until `n` arrived; resolves with the time of the last one (NaN on timeout). */
function arrivals(client: MqttClient, n: number): { done: Promise<number>; count: () => number } {
  let received = 0
  const done = new Promise<number>((res) => {
    const timer = setTimeout(() => res(Number.NaN), TIMEOUT_MS)
    client.on('message', () => {
      if (++received !== n) return
      clearTimeout(timer)
      res(performance.now())
    })
  })
  return { done, count: () => received }
}

/** Copies every retained mirror message of sensebus to Mosquitto, byte for byte, and waits until it holds them. */
async function copyMirror(from: string, to: string, n: number): Promise<void> {
  const source = await connectMqtt(from)
  const sink = await connectMqtt(to)
  try {
    source.on('message', (topic, payload) => sink.publish(topic, payload, { qos: 0, retain: true }))
    const got = arrivals(source, n)
    await source.subscribeAsync(FILTER, { qos: 0 })
    if (Number.isNaN(await got.done)) throw new Error(`sensebus delivered only ${got.count()} of ${n} keys`)
    // Mosquitto handles one connection's packets in order: once this is acknowledged, all are retained.
    await sink.publishAsync('bench/retained/fence', 'x', { qos: 1 })
  } finally {
    source.end(true)
    sink.end(true)
  }
}

interface Delivery {
  /** SUBSCRIBE sent → last retained message arrived, ms (NaN: not all arrived). */
  ms: number
  received: number
  serverCpuMs: number
  clientCpuMs: number
}

type Receiver = 'mqtt.js' | 'counting'

/** Times one fresh subscriber to FILTER from SUBSCRIBE until `n` retained messages arrived. */
async function deliver(url: string, n: number, qos: 0 | 1, server: Probe, receiver: Receiver): Promise<Delivery> {
  const now = () => performance.now()
  const { hostname, port } = new URL(url)
  let subscriber: { subscribe: () => Promise<number>; count: () => number; close: () => void }
  if (receiver === 'mqtt.js') {
    const client = await connectMqtt(url, { clean: true })
    const got = arrivals(client, n)
    subscriber = {
      subscribe: () => {
        client.subscribe(FILTER, { qos })
        return got.done
      },
      count: got.count,
      close: () => client.end(true),
    }
  } else {
    const raw = await CountingSubscriber.connect(hostname, Number(port), `retained-bench-${Date.now()}`)
    subscriber = {
      subscribe: () => raw.receive(FILTER, qos, n, TIMEOUT_MS, now),
      count: () => raw.count,
      close: () => raw.close(),
    }
  }
  try {
    const s0 = await server()
    const c0 = process.cpuUsage()
    const t0 = now()
    const last = await subscriber.subscribe()
    const c = process.cpuUsage(c0)
    const s1 = await server()
    return {
      ms: last - t0,
      received: subscriber.count(),
      serverCpuMs: (s1.cpuUs - s0.cpuUs) / 1000,
      clientCpuMs: (c.user + c.system) / 1000,
    }
  } finally {
    subscriber.close()
  }
}

type Side = 'sensebus' | 'mosquitto'
interface Row {
  receiver: Receiver
  qos: 0 | 1
  sensebus: Delivery[]
  mosquitto: Delivery[]
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2)
  const quick = argv.includes('--quick')
  const write = !quick && !argv.includes('--no-write')
  const keys = quick ? 10_000 : 100_000
  const reps = quick ? 1 : 3
  const log = (what: string) => console.error(`[retained-mosquitto] ${what}`)
  const before = loadavg()
  const dataDir = await mkdtemp(join(tmpdir(), 'sensebus-retained-mosq-bench-'))
  log(`writing ${fmtNumber(keys)} keys into the store`)
  await populate(dataDir, keys)
  const app = await startServer(dataDir)
  const mosquitto = await startMosquitto().catch((err: unknown) => {
    app.child.send('stop')
    throw err
  })
  const probes: Record<Side, Probe> = {
    sensebus: procProbe([app.child.pid as number]),
    mosquitto: procProbe([childNamed('mosquitto')]),
  }
  const urls: Record<Side, string> = { sensebus: app.url, mosquitto: mosquitto.url }
  const rows: Row[] = (['mqtt.js', 'counting'] as const).flatMap((receiver) =>
    ([1, 0] as const).map((qos) => ({ receiver, qos, sensebus: [], mosquitto: [] })),
  )
  try {
    log('copying the mirror to Mosquitto')
    await copyMirror(app.url, mosquitto.url, keys)
    // One untimed delivery each, so neither side is measured cold.
    for (const side of ['sensebus', 'mosquitto'] as const) await deliver(urls[side], keys, 1, probes[side], 'mqtt.js')
    for (let r = 0; r < reps; r++) {
      // Alternate which goes first, so drift on a busy host does not favour one side.
      const order: Side[] = r % 2 === 0 ? ['sensebus', 'mosquitto'] : ['mosquitto', 'sensebus']
      for (const row of rows) {
        for (const side of order) row[side].push(await deliver(urls[side], keys, row.qos, probes[side], row.receiver))
      }
      log(`rep ${r + 1}/${reps} done`)
    }
  } finally {
    app.child.send('stop')
    await mosquitto.stop()
    await rm(dataDir, { recursive: true, force: true })
  }
  const report = render(rows, keys, reps, before, loadavg())
  if (write) await writeFile(resolve(process.cwd(), 'spec/bench/results/retained-mosquitto.md'), report)
  console.log(report)
}

function render(rows: Row[], keys: number, reps: number, before: number[], after: number[]): string {
  const out = [
    '# Retained mirror: a fresh subscriber to every key, sensebus vs Mosquitto (issue #10)',
    '',
    `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.split(' ').slice(0, 2).join(' ')}, ` +
      `${new Date().toISOString()}, ${reps} repetition(s), medians. sensebus (forked, defaults) holds ` +
      `${fmtNumber(keys)} keys (${fmtNumber(keys / 1000)} namespaces × 1,000, 64-character values), its mirror ` +
      'seeded from the store at start; Mosquitto (no persistence) holds the same retained topics and payloads. ' +
      `A fresh clean-session subscriber to \`${FILTER}\`: time from SUBSCRIBE to the last retained message; ` +
      'broker CPU from /proc; subscriber CPU (user + system) of the bench process, which runs only the ' +
      'subscriber meanwhile. Subscribers: mqtt.js (TCP_NODELAY) and a raw-socket one that counts packets and ' +
      'acknowledges all QoS 1 messages of one read in one write.',
    '',
    '| subscriber | QoS | sensebus | Mosquitto | ratio | per repetition (sensebus / Mosquitto ms) | target |' +
      ' verdict | broker CPU sensebus / Mosquitto | subscriber CPU with sensebus / Mosquitto |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ]
  for (const row of rows) {
    const ratios = row.sensebus.map((s, i) => s.ms / (row.mosquitto[i] as Delivery).ms)
    const ratio = median(ratios)
    const s = (f: (d: Delivery) => number) => median(row.sensebus.map(f))
    const m = (f: (d: Delivery) => number) => median(row.mosquitto.map(f))
    const perRep = row.sensebus
      .map((d, i) => `${d.ms.toFixed(0)} / ${(row.mosquitto[i] as Delivery).ms.toFixed(0)}`)
      .join(', ')
    const complete = [...row.sensebus, ...row.mosquitto].every((d) => d.received === keys)
    out.push(
      `| ${row.receiver} | ${row.qos} | ${fmtMs(s((d) => d.ms))} | ${fmtMs(m((d) => d.ms))} | ` +
        `**${fmtRatio(ratio)}** | ${perRep} | ` +
        `≤ ${TARGET.toFixed(1)}× | ${complete && ratio <= TARGET ? 'PASS' : '**FAIL**'} | ` +
        `${fmtMs(s((d) => d.serverCpuMs))} / ${fmtMs(m((d) => d.serverCpuMs))} | ` +
        `${fmtMs(s((d) => d.clientCpuMs))} / ${fmtMs(m((d) => d.clientCpuMs))} |`,
    )
  }
  const short = rows.flatMap((r) => [...r.sensebus, ...r.mosquitto]).filter((d) => d.received !== keys)
  out.push('')
  out.push(
    `Deliveries that did not bring all ${fmtNumber(keys)} messages within ${TIMEOUT_MS / 1000} s: ${short.length}. ` +
      `Load average before / after: ${before[0]?.toFixed(2)} / ${after[0]?.toFixed(2)}.`,
  )
  out.push('')
  return out.join('\n')
}

if (process.argv[2] === '--serve') await serve(process.argv[3] ?? '')
else await main()
