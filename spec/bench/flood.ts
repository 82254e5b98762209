/**
 * `npm run bench` (after run.ts), or alone: `node dist-bench/spec/bench/flood.js [--quick] [--no-write]`.
 *
 * Abuse as a normal day (issue #8): four clients flood sensebus with QoS 0 requests as fast as their
 * sockets take them (each subscribed to the answers, as the attack was) while a fifth client pings.
 * Reports whether sensebus survived (crashes: must be 0), the fifth client's ping p99 during the flood
 * as a ratio to its own idle p99 measured in the same run, and the seconds until its pings are back
 * near idle once the flood stops. Three processes: sensebus, the flooders, and this one (the pinger),
 * so the flooders' CPU does not delay the pinger's own measurement.
 */
import { fork } from 'node:child_process'
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import mqtt, { type MqttClient } from 'mqtt'
import { startApp } from '../../src/app.js'
import { modules } from '../../src/capabilities/index.js'
import { silentLogger } from '../../src/log.js'
import { fmtMs, quantile } from './stats.js'
import { benchConfig } from './bench-config.js'

const SELF = fileURLToPath(import.meta.url)
const FLOODERS = 4

/** Child mode 1: sensebus on its defaults (ephemeral ports, silent logs). */
async function serve(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sensebus-flood-'))
  const config = benchConfig(dataDir)
  const app = await startApp({ config, log: silentLogger(), modules })
  process.send?.({ mqtt: `mqtt://127.0.0.1:${app.endpoints.mqtt?.port}` })
  process.on('message', async () => {
    await app.stop()
    await rm(dataDir, { recursive: true, force: true })
    process.exit(0)
  })
}

/** Child mode 2: the flooders, until told to stop; reports how many requests they sent. */
async function flood(url: string): Promise<void> {
  let stop = false
  let sent = 0
  process.on('message', () => {
    stop = true
  })
  const clients: MqttClient[] = []
  for (let i = 0; i < FLOODERS; i++) {
    const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, clientId: `flooder-${i}` })
    await c.subscribeAsync('sense/response/kv/+', { qos: 0 })
    clients.push(c)
  }
  process.send?.({ flooding: true })
  await Promise.all(
    clients.map(async (c, i) => {
      const stream = c.stream as unknown as NodeJS.WritableStream & { writableLength: number }
      let n = 0
      while (!stop && c.connected) {
        // As fast as the socket takes it: refill while less than 256 KB waits to be sent, yielding every
        // 200 publishes (mqtt.js may hold messages in its own queue, off the socket's count).
        for (let batch = 0; batch < 200 && stream.writableLength < 256 * 1024 && !stop; batch++) {
          const topic = n % 2 === 0 ? 'sense/request/kv/set' : 'sense/request/util/ping'
          c.publish(topic, JSON.stringify({ namespace: `flood${i}`, key: `k${n % 1000}`, value: 'x' }), { qos: 0 })
          n++
          sent++
        }
        await new Promise((r) => setImmediate(r))
      }
    }),
  )
  for (const c of clients) c.end(true)
  process.send?.({ sent })
}

function child(args: string[]): ReturnType<typeof fork> {
  return fork(SELF, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
}

function once<T>(proc: ReturnType<typeof fork>, pick: (m: Record<string, unknown>) => T | undefined): Promise<T> {
  return new Promise((resolvePick, reject) => {
    const onMessage = (m: Record<string, unknown>) => {
      const v = pick(m)
      if (v !== undefined) {
        proc.off('message', onMessage)
        resolvePick(v)
      }
    }
    proc.on('message', onMessage)
    proc.once('exit', (code) => reject(new Error(`child exited (${code})`)))
  })
}

/** Sequential util/ping round trips for `ms`; each sample is [start offset ms, latency ms]. */
async function pingFor(client: MqttClient, ms: number, t0: number): Promise<Array<[number, number]>> {
  const samples: Array<[number, number]> = []
  const end = performance.now() + ms
  let seq = 0
  while (performance.now() < end) {
    const transaction = `p${seq++}`
    const start = performance.now()
    const latency = await new Promise<number>((res) => {
      const timer = setTimeout(() => {
        client.off('message', onMessage)
        res(10_000)
      }, 10_000)
      const onMessage = (_t: string, payload: Buffer) => {
        if (!payload.includes(`"${transaction}"`)) return
        clearTimeout(timer)
        client.off('message', onMessage)
        res(performance.now() - start)
      }
      client.on('message', onMessage)
      client.publish('sense/request/util/ping', JSON.stringify({ transaction }), { qos: 1 })
    })
    samples.push([start - t0, latency])
    await new Promise((r) => setTimeout(r, 20))
  }
  return samples
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick')
  const write = !process.argv.includes('--no-write') && !quick
  const floodMs = quick ? 5_000 : 30_000
  const load: { before: number; after?: number } = { before: loadavg()[0] as number }
  const server = child(['--serve'])
  let crashes = 0
  server.on('exit', (code) => {
    if (code !== 0) crashes++
  })
  const url = await once(server, (m) => m.mqtt as string | undefined)
  const pinger = await mqtt.connectAsync(url, { reconnectPeriod: 1000, clientId: 'pinger' })
  await pinger.subscribeAsync('sense/response/util/ping', { qos: 1 })
  const t0 = performance.now()
  const idle = await pingFor(pinger, quick ? 2_000 : 5_000, t0)

  const flooders = child(['--flood', url])
  await once(flooders, (m) => (m.flooding ? true : undefined))
  const during = await pingFor(pinger, floodMs, t0)
  flooders.send('stop')
  const sent = await once(flooders, (m) => m.sent as number | undefined)
  const floodEnd = performance.now() - t0
  const after = await pingFor(pinger, quick ? 3_000 : 10_000, t0)

  const idleP99 = quantile(
    idle.map(([, l]) => l),
    0.99,
  )
  const floodP99 = quantile(
    during.map(([, l]) => l),
    0.99,
  )
  // Recovered: from the first ping after which every ping stays under 3× the idle p99.
  const bound = Math.max(3 * idleP99, 1)
  let recoveredAt = Number.NaN
  for (let i = after.length - 1; i >= 0; i--) {
    if ((after[i]?.[1] ?? Infinity) > bound) break
    recoveredAt = after[i]?.[0] ?? Number.NaN
  }
  const recoverySeconds = Math.max(0, (recoveredAt - floodEnd) / 1000)
  const alive = server.exitCode === null
  pinger.end(true)
  if (alive) server.send('stop')
  await new Promise((r) => server.once('exit', r))
  load.after = loadavg()[0] as number

  const recovery = Number.isFinite(recoverySeconds) ? `${recoverySeconds.toFixed(2)} s` : 'not recovered'
  const lines = [
    '# Flood benchmark (issue #8)',
    '',
    `Four clients flood QoS 0 \`kv/set\` and \`util/ping\` for ${floodMs / 1000} s as fast as their sockets take`,
    'them; a fifth client pings (QoS 1, one at a time). Ratios are against the pinger’s idle p99 in the same run.',
    '',
    '| measure | value |',
    '| --- | --- |',
    `| crashes | ${crashes + (alive ? 0 : 1)} (target 0) |`,
    `| requests sent by the flooders | ${sent.toLocaleString('en-US')} |`,
    `| pinger idle p99 | ${fmtMs(idleP99)} (${idle.length} pings) |`,
    `| pinger p99 during the flood | ${fmtMs(floodP99)} (${during.length} pings) |`,
    `| **ratio flood p99 / idle p99** | **${(floodP99 / idleP99).toFixed(1)}×** |`,
    `| **recovery after the flood** | **${recovery}** (every later ping < 3× idle p99; target < 1 s) |`,
    `| load average before / after | ${load.before.toFixed(2)} / ${(load.after ?? Number.NaN).toFixed(2)} |`,
    '',
  ]
  const report = lines.join('\n')
  process.stdout.write(`${report}\n`)
  if (write) {
    const out = resolve(process.cwd(), 'spec/bench/results/flood.md')
    await mkdir(dirname(out), { recursive: true })
    await writeFile(out, report)
  }
  process.exit(crashes > 0 || !alive ? 1 : 0)
}

const mode = process.argv[2]
if (mode === '--serve') await serve()
else if (mode === '--flood') await flood(process.argv[3] as string)
else await main()
