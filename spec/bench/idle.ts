/**
 * `npm run bench` (after the scheduler), or alone: `node dist-bench/spec/bench/idle.js [--quick] [--no-write]
 * [--connections N]`.
 *
 * Idle connections (issue #10): N clean-session MQTT clients (keepalive 600 s) connect and stay silent.
 * Each server runs in a fresh process of its own, one after the other: sensebus on its defaults (ports,
 * silent logs and `broker.maxConnections` aside), a bare Aedes with in-memory persistence (the baseline),
 * and Mosquitto. Reported: RSS before and with the N connections, the growth per connection, and, for the
 * Node servers, where it went (JS heap vs external / ArrayBuffers, after a full GC).
 *
 * The load side is one more process of raw sockets that send a hand-built CONNECT and wait for CONNACK:
 * 10,000 mqtt.js clients would cost the load process far more than the server, and the server sees the
 * same bytes either way.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { type AddressInfo, createConnection, createServer, type Socket } from 'node:net'
import { cpus, loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { writeHeapSnapshot } from 'node:v8'
import { DEFAULT_HEAP_MODE } from '../../src/startup/heap.js'
import { connectPacket } from './raw-mqtt.js'
import { fmtNumber, fmtRatio } from './stats.js'

const SELF = fileURLToPath(import.meta.url)
const TARGET_MB = 200
const TARGET_CONNECTIONS = 10_000
/** CONNECTs in flight at once from the load process. */
const CONNECT_BATCH = 200
/** After the last CONNACK: the first sample, with the connect storm just over. */
const CONNECTED_MS = 3_000
/**
 * Quiet time before the start sample and, after the last CONNACK, before the idle one (which the target is
 * checked on): idle connections stay idle for minutes, and a Node server's heap settles in seconds (V8's
 * memory reducer; sensebus' `runtime.heap: auto` goes lean after 5 quiet seconds). `--quick`: 8 s.
 */
let IDLE_MS = 30_000

interface Mem {
  rss: number
  heapUsed: number
  heapTotal: number
  external: number
  arrayBuffers: number
}

const send = (msg: unknown) => process.send?.(msg)

/** Full GC twice (weak maps clear in the second), then the numbers. */
async function memory(): Promise<Mem> {
  const gc = (globalThis as { gc?: () => void }).gc
  for (let i = 0; i < 2; i++) {
    gc?.()
    await new Promise((r) => setTimeout(r, 100))
  }
  const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage()
  // Diagnosis (not part of the report): IDLE_BENCH_SNAPSHOTS=<dir> writes a heap snapshot per sample.
  const dir = process.env.IDLE_BENCH_SNAPSHOTS
  if (dir) writeHeapSnapshot(join(dir, `${process.argv[3]}-${Date.now()}.heapsnapshot`))
  return { rss, heapUsed, heapTotal, external, arrayBuffers }
}

/** Child mode: one server until told to stop; answers 'mem' with its memory. */
async function serve(kind: 'sensebus' | 'aedes', connections: number): Promise<void> {
  // Both Node servers run under the V8 heap mode `sensebus start` sets before it loads anything
  // (src/startup/heap.ts), so the comparison is of what each allocates, not of the collector's settings.
  const { applyHeapMode, DEFAULT_HEAP_MODE } = await import('../../src/startup/heap.js')
  applyHeapMode(DEFAULT_HEAP_MODE)
  let url: string
  let stop: () => Promise<void>
  // Imported here, so the bare Aedes process does not load (and pay RSS for) sensebus' modules.
  if (kind === 'sensebus') {
    const [{ startApp }, { modules }, { benchConfig }, { silentLogger }] = await Promise.all([
      import('../../src/app.js'),
      import('../../src/capabilities/index.js'),
      import('./bench-config.js'),
      import('../../src/log.js'),
    ])
    const dataDir = await mkdtemp(join(tmpdir(), 'sensebus-idle-bench-'))
    const config = benchConfig(dataDir, {
      'broker.maxConnections': connections + 100,
    })
    const app = await startApp({ config, log: silentLogger(), modules })
    url = `127.0.0.1:${app.endpoints.mqtt?.port}`
    stop = async () => {
      await app.stop()
      await rm(dataDir, { recursive: true, force: true })
    }
  } else {
    const { Aedes } = await import('aedes')
    const aedes = new Aedes()
    await aedes.listen()
    const sockets = new Set<Socket>()
    const server = createServer({ noDelay: true }, (socket) => {
      sockets.add(socket)
      socket.once('close', () => sockets.delete(socket))
      aedes.handle(socket)
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    url = `127.0.0.1:${(server.address() as AddressInfo).port}`
    stop = async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((r) => server.close(() => r()))
      await new Promise<void>((r) => aedes.close(() => r()))
    }
  }
  process.on('message', async (m: string) => {
    if (m === 'mem') send({ mem: await memory() })
    else {
      await stop()
      process.exit(0)
    }
  })
  send({ url })
}

/** Resolves true on CONNACK 0 (accepted), false on anything else or after 20 s. */
function connectOne(host: string, port: number, clientId: string, sockets: Socket[]): Promise<boolean> {
  return new Promise((resolveConnack) => {
    const socket = createConnection({ host, port })
    sockets.push(socket)
    const timer = setTimeout(() => done(false), 20_000)
    const done = (ok: boolean) => {
      clearTimeout(timer)
      socket.removeAllListeners('data')
      resolveConnack(ok)
    }
    socket.once('connect', () => socket.write(connectPacket(clientId)))
    socket.once('data', (d: Buffer) => done(d[0] === 0x20 && d[3] === 0))
    socket.on('error', () => done(false))
  })
}

/** Child mode: opens the connections, reports, holds them until told to stop. */
async function load(target: string, n: number, tag: string): Promise<void> {
  const [host, port] = target.split(':') as [string, string]
  const sockets: Socket[] = []
  let accepted = 0
  for (let i = 0; i < n; i += CONNECT_BATCH) {
    const batch = Array.from({ length: Math.min(CONNECT_BATCH, n - i) }, (_, k) =>
      connectOne(host, Number(port), `idle-${tag}-${i + k}`, sockets),
    )
    accepted += (await Promise.all(batch)).filter(Boolean).length
  }
  process.on('message', () => {
    for (const s of sockets) s.destroy()
    process.exit(0)
  })
  send({ accepted })
}

function child(args: string[], execArgv: string[] = []): ChildProcess {
  return fork(SELF, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv })
}

function next<T>(proc: ChildProcess, pick: (m: Record<string, unknown>) => T | undefined, ms = 120_000): Promise<T> {
  return new Promise((resolvePick, reject) => {
    const timer = setTimeout(() => reject(new Error('child did not answer in time')), ms)
    const onMessage = (m: Record<string, unknown>) => {
      const v = pick(m)
      if (v === undefined) return
      clearTimeout(timer)
      proc.off('message', onMessage)
      resolvePick(v)
    }
    proc.on('message', onMessage)
    proc.once('exit', (code) => reject(new Error(`child exited (${code})`)))
  })
}

function exited(proc: ChildProcess): Promise<void> {
  return new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', () => r())))
}

interface Row {
  name: string
  accepted: number
  start: Mem
  connected: Mem
  idle: Mem
  connectS: number
}

/** Opens the connections against `target`, settles, and asks `sample` for the memory. */
async function withConnections(target: string, n: number, tag: string, sample: () => Promise<Mem>) {
  const t0 = Date.now()
  const loader = child(['--load', target, String(n), tag])
  const accepted = await next(loader, (m) => m.accepted as number | undefined)
  const connectS = (Date.now() - t0) / 1000
  const t1 = Date.now()
  await new Promise((r) => setTimeout(r, CONNECTED_MS))
  const connected = await sample()
  await new Promise((r) => setTimeout(r, Math.max(0, IDLE_MS - (Date.now() - t1))))
  const idle = await sample()
  loader.send('stop')
  await exited(loader)
  return { accepted, connected, idle, connectS }
}

/**
 * One connection, opened and closed before the start sample, so that what the server makes once on first
 * use (mqtt-packet's cache of 65,536 message-id Buffers, about 6 MB; compiled code) counts as its start,
 * not against the connections.
 */
async function warmUp(target: string): Promise<void> {
  const loader = child(['--load', target, '1', 'warm'])
  await next(loader, (m) => m.accepted as number | undefined)
  loader.send('stop')
  await exited(loader)
  await new Promise((r) => setTimeout(r, 500))
}

async function nodeServer(kind: 'sensebus' | 'aedes', n: number): Promise<Row> {
  const server = child(['--serve', kind, String(n)], ['--expose-gc'])
  const target = await next(server, (m) => m.url as string | undefined)
  const sample = () => {
    server.send('mem')
    return next(server, (m) => m.mem as Mem | undefined)
  }
  await new Promise((r) => setTimeout(r, 1_000))
  await warmUp(target)
  await new Promise((r) => setTimeout(r, IDLE_MS))
  const start = await sample()
  const rest = await withConnections(target, n, kind, sample)
  server.send('stop')
  await exited(server)
  return { name: kind, start, ...rest }
}

function rssOf(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
  return Number(kb) * 1024
}

async function mosquitto(n: number): Promise<Row> {
  const dir = await mkdtemp(join(tmpdir(), 'sensebus-idle-bench-mosq-'))
  const port = await new Promise<number>((r) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port
      s.close(() => r(p))
    })
  })
  const conf = join(dir, 'mosquitto.conf')
  await writeFile(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_connections -1\n`)
  const proc = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' })
  try {
    await new Promise((r) => setTimeout(r, 1_000))
    const pid = proc.pid as number
    const none = { heapUsed: Number.NaN, heapTotal: Number.NaN, external: Number.NaN, arrayBuffers: Number.NaN }
    const sample = async (): Promise<Mem> => ({ rss: rssOf(pid), ...none })
    await warmUp(`127.0.0.1:${port}`)
    const start = await sample()
    const rest = await withConnections(`127.0.0.1:${port}`, n, 'mosquitto', sample)
    return { name: 'mosquitto', start, ...rest }
  } finally {
    proc.kill('SIGTERM')
    await exited(proc)
    await rm(dir, { recursive: true, force: true })
  }
}

const MB = 1024 * 1024
const mb = (b: number) => fmtNumber(b / MB, 1)
const perConn = (b: number, n: number) => fmtNumber(b / n / 1024, 2)

function render(rows: Row[], n: number, load: [number, number]): string {
  const [app, bare] = rows as [Row, Row]
  const growth = (r: Row, k: keyof Mem) => r.idle[k] - r.start[k]
  const ratio = growth(app, 'rss') / app.accepted / (growth(bare, 'rss') / bare.accepted)
  // The target is for 10,000 connections; a smaller run extrapolates linearly.
  const projected = app.start.rss + (growth(app, 'rss') / app.accepted) * TARGET_CONNECTIONS
  const projectedNote = n === TARGET_CONNECTIONS ? '' : ' (projected)'
  const bareProjected = bare.start.rss + (growth(bare, 'rss') / bare.accepted) * TARGET_CONNECTIONS
  const pass = projected < TARGET_MB * MB && app.accepted === n
  const lines = [
    '# Idle connections benchmark (issue #10)',
    '',
    `${fmtNumber(n)} clean-session MQTT 3.1.1 clients (keepalive 600 s) connect and stay silent; each server runs`,
    `in a fresh process, the Node ones under sensebus' default V8 heap mode (\`runtime.heap: ${DEFAULT_HEAP_MODE}\`).`,
    `Memory is sampled after a full GC: at start (after ${IDLE_MS / 1000} s quiet), ${CONNECTED_MS / 1000} s after ` +
      `the last CONNACK, and idle, ${IDLE_MS / 1000} s after it (per connection and target: idle − start).`,
    `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}, ${new Date().toISOString()}.`,
    '',
    `| server | accepted | connect time | RSS start | RSS ${CONNECTED_MS / 1000} s after | RSS idle | RSS / conn | ` +
      'heap used / conn | heap committed / conn | external / conn | arrayBuffers / conn |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) =>
      [
        '',
        r.name,
        fmtNumber(r.accepted),
        `${r.connectS.toFixed(1)} s`,
        `${mb(r.start.rss)} MB`,
        `${mb(r.connected.rss)} MB`,
        `${mb(r.idle.rss)} MB`,
        `${perConn(growth(r, 'rss'), r.accepted)} KB`,
        `${perConn(growth(r, 'heapUsed'), r.accepted)} KB`,
        `${perConn(growth(r, 'heapTotal'), r.accepted)} KB`,
        `${perConn(growth(r, 'external'), r.accepted)} KB`,
        `${perConn(growth(r, 'arrayBuffers'), r.accepted)} KB`,
        '',
      ]
        .join(' | ')
        .trim(),
    ),
    '',
    `| measure | value |`,
    '| --- | --- |',
    `| **ratio sensebus ÷ bare Aedes, RSS per connection** | **${fmtRatio(ratio)}** |`,
    `| sensebus RSS at 10,000 connections${projectedNote} | ${mb(projected)} MB |`,
    `| **target: 10,000 idle connections < ${TARGET_MB} MB RSS** | **${pass ? 'PASS' : 'FAIL'}** |`,
    `| bare Aedes RSS at 10,000 connections${projectedNote} | ${mb(bareProjected)} MB |`,
    `| sensebus RSS ${CONNECTED_MS / 1000} s after the last CONNACK (not the target; the connect storm just over) | ` +
      `${mb(app.connected.rss)} MB |`,
    `| JS heap used at start, sensebus / bare Aedes | ${mb(app.start.heapUsed)} MB / ${mb(bare.start.heapUsed)} MB |`,
    `| load average before / after | ${load[0].toFixed(2)} / ${load[1].toFixed(2)} |`,
    '',
  ]
  return lines.join('\n')
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2)
  const quick = argv.includes('--quick')
  if (quick) IDLE_MS = 8_000
  const write = !argv.includes('--no-write') && !quick
  const at = argv.indexOf('--connections')
  const n = at >= 0 ? Number(argv[at + 1]) : quick ? 1_000 : TARGET_CONNECTIONS
  const loadBefore = loadavg()[0] as number
  const log = (what: string) => console.error(`[idle] ${what}`)
  const rows: Row[] = []
  for (const kind of ['sensebus', 'aedes'] as const) {
    log(`${kind}: ${n} connections`)
    rows.push(await nodeServer(kind, n))
  }
  log(`mosquitto: ${n} connections`)
  rows.push(await mosquitto(n))
  const report = render(rows, n, [loadBefore, loadavg()[0] as number])
  process.stdout.write(`${report}\n`)
  if (write) {
    const out = resolve(process.cwd(), 'spec/bench/results/idle.md')
    await mkdir(dirname(out), { recursive: true })
    await writeFile(out, report)
  }
  process.exit(rows[0]?.accepted === n ? 0 : 1)
}

const mode = process.argv[2]
if (mode === '--serve') await serve(process.argv[3] as 'sensebus' | 'aedes', Number(process.argv[4]))
else if (mode === '--load') await load(process.argv[3] as string, Number(process.argv[4]), process.argv[5] as string)
else await main()
