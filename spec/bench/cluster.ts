/**
 * `npm run bench` (after alerts.ts), or alone: `node dist-bench/spec/bench/cluster.js [--quick] [--no-write]`.
 *
 * Several instances (issue #16): one Mosquitto, one Redis, and one, two or three sensebus processes sharing
 * requests (`broker.sharedGroup`) and state (`store.backend: redis`), beside one sensebus on the level
 * backend on the same broker (the baseline). Two measures per layout:
 * - requests/s: `kv/get` (a store read) with 64 requests in flight from one client, for a fixed time;
 * - alerts/s: task-failure datagrams, each sent to one instance in turn, until every alert's webhook
 *   call arrived (enrichment off, rate limit off).
 * Each figure is reported as a ratio to the level baseline of the same run.
 */
import { fork } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { cpus, loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import mqtt from 'mqtt'
import { startApp } from '../../src/app.js'
import { modules } from '../../src/capabilities/index.js'
import { loadConfig } from '../../src/config/load.js'
import { silentLogger } from '../../src/log.js'
import { taskFailureDatagram } from '../../src/sim/udp/datagram.js'
import { startMosquitto } from '../helpers/mosquitto.js'
import { startRedis } from '../helpers/redis.js'
import { fmtNumber } from './stats.js'

const SELF = fileURLToPath(import.meta.url)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface ServeOptions {
  brokerUrl: string
  hookUrl: string
  udpPort: number
  redis?: { url: string; keyPrefix: string }
}

/** Child mode: one sensebus on the external broker, reporting its UDP port. */
async function serve(opts: ServeOptions): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sensebus-redis-bench-'))
  const config = loadConfig(modules, {
    overrides: {
      dataDir,
      'broker.url': opts.brokerUrl,
      'broker.sharedGroup': 'bench',
      'http.enabled': false,
      'log.level': 'silent',
      'bus.maxInFlight': 1024,
      ...(opts.redis ? { 'store.backend': 'redis', 'store.redis': { ...opts.redis } } : {}),
      'capabilities.alert.udp.port': opts.udpPort,
      'capabilities.alert.udp.maxPerSourcePerMinute': 1_000_000,
      'capabilities.alert.enrichment.enabled': false,
      'capabilities.alert.rateLimitMs': 0,
      'capabilities.alert.destinations': { hook: { type: 'webhook', url: opts.hookUrl } },
      'capabilities.alert.rules': [{ events: ['reload/failed'], destinations: ['hook'] }],
    },
  })
  const app = await startApp({ config, log: silentLogger(), modules })
  process.send?.({ ready: true })
  process.on('message', async () => {
    await app.stop()
    await rm(dataDir, { recursive: true, force: true })
    process.exit(0)
  })
}

/** A UDP port that was free a moment ago, for a child's alert receiver. */
function freeUdpPort(): Promise<number> {
  return new Promise((res) => {
    const s = createSocket('udp4')
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => res(port))
    })
  })
}

interface Layout {
  name: string
  instances: number
  redis: boolean
}

async function measureRequests(brokerUrl: string, ms: number): Promise<number> {
  const client = await mqtt.connectAsync(brokerUrl, { reconnectPeriod: 0 })
  const reply = `bench/kv/${process.pid}`
  await client.subscribeAsync(reply, { qos: 1 })
  await new Promise<void>((res) => {
    client.once('message', () => res())
    client.publish(
      'sense/request/kv/set',
      JSON.stringify({ namespace: 'bench', key: 'k1', value: 'v', replyTo: reply }),
    )
  })
  let answered = 0
  let counting = false
  let stop = false
  const body = JSON.stringify({ namespace: 'bench', key: 'k1', replyTo: reply })
  const done = new Promise<void>((res) => {
    let open = 0
    const fire = () => {
      if (stop) {
        if (open === 0) res()
        return
      }
      open++
      client.publish('sense/request/kv/get', body, { qos: 1 })
    }
    client.on('message', () => {
      open--
      if (counting) answered++
      fire()
    })
    for (let i = 0; i < 64; i++) fire()
  })
  await sleep(500)
  counting = true
  const t0 = performance.now()
  await sleep(ms)
  counting = false
  const elapsed = performance.now() - t0
  stop = true
  await Promise.race([done, sleep(5000)])
  await client.endAsync()
  return answered / (elapsed / 1000)
}

/** Alerts/s: datagrams sent to the instances in turn, up to the last webhook call; drops counted, not fatal. */
async function measureAlerts(
  ports: number[],
  count: number,
  delivered: Map<string, number>,
): Promise<{ rate: number; lost: number }> {
  const socket = createSocket('udp4')
  const ids: string[] = []
  const t0 = performance.now()
  for (let i = 0; i < count; i++) {
    const executionId = crypto.randomUUID()
    ids.push(executionId)
    const text = taskFailureDatagram(i, executionId)
    await new Promise<void>((res) => socket.send(text, ports[i % ports.length] as number, '127.0.0.1', () => res()))
    if (i % 5 === 4) await sleep(2)
  }
  socket.close()
  // Until every alert arrived, or nothing more arrived for 10 s (a datagram UDP dropped never will).
  let last = -1
  let quietSince = Date.now()
  while (ids.some((id) => !delivered.has(id)) && Date.now() - quietSince < 10_000) {
    await sleep(50)
    if (delivered.size !== last) {
      last = delivered.size
      quietSince = Date.now()
    }
  }
  const times = ids.flatMap((id) => (delivered.has(id) ? [delivered.get(id) as number] : []))
  return { rate: times.length / ((Math.max(...times) - t0) / 1000), lost: count - times.length }
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick')
  const write = !process.argv.includes('--no-write') && !quick
  const requestMs = quick ? 1000 : 3000
  const alertCount = quick ? 100 : 400
  const loadBefore = loadavg()[0] as number
  const redis = await startRedis()
  const mosquitto = await startMosquitto()
  const delivered = new Map<string, number>()
  const hook = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const id = JSON.parse(Buffer.concat(chunks).toString()).executionId as string
      if (!delivered.has(id)) delivered.set(id, performance.now())
      res.writeHead(200).end('ok')
    })
  })
  await new Promise<void>((res) => hook.listen(0, '127.0.0.1', () => res()))
  const hookUrl = `http://127.0.0.1:${(hook.address() as { port: number }).port}/hook`

  const layouts: Layout[] = [
    { name: 'level, 1 instance (baseline)', instances: 1, redis: false },
    { name: 'redis, 1 instance', instances: 1, redis: true },
    { name: 'redis, 2 instances', instances: 2, redis: true },
    { name: 'redis, 3 instances', instances: 3, redis: true },
  ]
  const rows: Array<{ layout: Layout; requests: number; alerts: number; lost: number }> = []
  try {
    for (const [n, layout] of layouts.entries()) {
      const children = []
      const ports: number[] = []
      for (let i = 0; i < layout.instances; i++) {
        const udpPort = await freeUdpPort()
        const opts: ServeOptions = {
          brokerUrl: mosquitto.url,
          hookUrl,
          udpPort,
          ...(layout.redis ? { redis: { url: redis.url, keyPrefix: `bench${n}:` } } : {}),
        }
        const child = fork(SELF, ['--serve', JSON.stringify(opts)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
        children.push(child)
        await new Promise<void>((res, rej) => {
          child.once('message', () => res())
          child.once('exit', (code) => rej(new Error(`sensebus exited (${code})`)))
        })
        ports.push(udpPort)
      }
      process.stderr.write(`cluster bench: ${layout.name}: requests\n`)
      const requests = await measureRequests(mosquitto.url, requestMs)
      process.stderr.write(`cluster bench: ${layout.name}: alerts\n`)
      const { rate: alerts, lost } = await measureAlerts(ports, alertCount, delivered)
      rows.push({ layout, requests, alerts, lost })
      for (const c of children) c.send('stop')
      await Promise.all(children.map((c) => new Promise((r) => (c.exitCode === null ? c.once('exit', r) : r(0)))))
    }
  } finally {
    hook.close()
    await mosquitto.stop()
    await redis.stop()
  }
  const base = rows[0] as (typeof rows)[number]
  const lines = [
    '# Several instances (issue #16)',
    '',
    `One Mosquitto, one Redis (no persistence) and sensebus processes on ${cpus().length} cores, all on this`,
    'host: more instances add coordination, not CPU, so the ratios show what sharing costs, not how a',
    'site with one server per instance scales. Requests: `kv/get`, 64 in flight from one client, ' +
      `${requestMs / 1000} s. Alerts: ${alertCount} datagrams, each to one instance in turn, until every ` +
      'webhook call arrived. "Datagrams lost": dropped by UDP before sensebus read them (a loaded host ' +
      'overflows the socket buffer); the rate counts delivered alerts only. Redis runs without persistence, ' +
      'level fsyncs every commit: the level baseline pays for a disk the Redis layouts do not.',
    '',
    '| layout | requests/s | ÷ baseline | alerts/s | ÷ baseline | datagrams lost |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.layout.name} | ${fmtNumber(r.requests)} | ${(r.requests / base.requests).toFixed(2)} | ` +
        `${fmtNumber(r.alerts, 1)} | ${(r.alerts / base.alerts).toFixed(2)} | ${r.lost} |`,
    ),
    '',
    `Load average before / after: ${loadBefore.toFixed(2)} / ${(loadavg()[0] as number).toFixed(2)} (other work on ` +
      'the host moves these figures; compare ratios from one run only).',
    '',
  ]
  const report = lines.join('\n')
  process.stdout.write(`${report}\n`)
  if (write) {
    const out = resolve(process.cwd(), 'spec/bench/results/cluster.md')
    await mkdir(dirname(out), { recursive: true })
    await writeFile(out, report)
  }
  process.exit(0)
}

if (process.argv[2] === '--serve') await serve(JSON.parse(process.argv[3] as string) as ServeOptions)
else await main()
