/**
 * The server side of `npm run bench`, run as a child process of run.ts. It hosts sensebus and every
 * baseline in one process, so subject and baseline always compete for the same single core while the
 * load generator runs in the other process:
 *
 * - sensebus (`startApp`, defaults: level persistence, KV mirror on), one key `bench/k1`;
 * - raw echo: an `aedes.subscribe` listener on the *same* broker that republishes each request;
 * - bus echo: the same through sensebus' Bus adapter, still without the dispatcher;
 * - a bare `node:http` server answering the Butler kv body;
 * - a bare Aedes with in-memory persistence (fan-out and retained baselines);
 * - on demand, a second sensebus holding 10,000 keys and a bare Aedes holding 10,000 retained messages;
 * - on demand, a sensebus for the HTTP write scenario, holding the keys it overwrites (so its kv/get finds them
 *   whichever runs first) and nothing else, so the other scenarios' instances stay as they were.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import type { Readable } from 'node:stream'
import { Aedes } from 'aedes'
import { Level } from 'level'
import { startApp, type App } from '../../src/app.js'
import type { EmbeddedBroker } from '../../src/broker/embedded-broker.js'
import { modules } from '../../src/capabilities/index.js'
import { systemIdentity } from '../../src/core/identity.js'
import { silentLogger } from '../../src/log.js'
import {
  BENCH,
  retainedKey,
  retainedNs,
  type Command,
  type CpuSample,
  type Endpoints,
  type RetainedEndpoints,
  type ServerMessage,
  writeKey,
} from './ipc.js'
import { benchConfig } from './bench-config.js'

const noop = () => undefined
/** The dispatcher refuses in-process requests without an identity. */
const identity = systemIdentity('bench')
const send = (msg: ServerMessage) => process.send?.(msg)

/**
 * Counts the sync LevelDB batches (one fsync each) of every store in this process and the time each took
 * from the call to its promise settling (the fsync plus the thread-pool and event-loop hops), so the write
 * scenario can show how many acknowledged writes share one fsync and what one costs in latency. Wraps
 * level's batch implementation, which no option exposes; the figures are the bench's, nothing in sensebus
 * reads them.
 */
const sync = { batches: 0, ms: 0 }
const levelProto = Level.prototype as unknown as { _batch(ops: unknown[], opts: { sync?: boolean }): Promise<void> }
const levelBatch = levelProto._batch
levelProto._batch = function (this: unknown, ops, opts) {
  if (!opts?.sync) return levelBatch.call(this, ops, opts)
  sync.batches++
  const t0 = performance.now()
  return levelBatch.call(this, ops, opts).finally(() => {
    sync.ms += performance.now() - t0
  })
}

interface Sensebus {
  app: App
  mqttUrl: string
  httpUrl: string
  dataDir: string
  startMs: number
}

async function startSensebus(dataDir: string): Promise<Sensebus> {
  const config = benchConfig(dataDir, {
    // Defaults everywhere except ports, logging and the connection cap: fan-out needs 1,000
    // subscribers plus a publisher, one more than the default broker.maxConnections (1000).
    'broker.maxConnections': 2000,
  })
  const t0 = performance.now()
  const app = await startApp({ config, log: silentLogger(), modules })
  const startMs = performance.now() - t0
  const { mqtt, http } = app.endpoints
  if (!mqtt || !http) throw new Error('sensebus started without an MQTT or HTTP listener')
  return { app, mqttUrl: `mqtt://127.0.0.1:${mqtt.port}`, httpUrl: `http://127.0.0.1:${http.port}`, dataDir, startMs }
}

/**
 * The Aedes instance behind sensebus' embedded bus. `App` does not expose it (nothing in src needs
 * to), so the bench reaches through the adapter and fails loudly if that shape ever changes.
 */
function aedesOf(app: App): Aedes {
  const broker = (app.bus as unknown as { broker?: EmbeddedBroker }).broker
  if (!broker || !(broker.aedes instanceof Aedes))
    throw new Error('bench: app.bus is not the embedded AedesBus; cannot attach the raw echo')
  return broker.aedes
}

function listen(server: NetServer | HttpServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port))
  })
}

/** Tracks sockets so close() never waits on idle keep-alive or MQTT connections. */
function closable(server: NetServer | HttpServer): () => Promise<void> {
  const sockets = new Set<Socket>()
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  })
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve())
      for (const s of sockets) s.destroy()
    })
}

async function startBareAedes(): Promise<{ aedes: Aedes; url: string; close: () => Promise<void> }> {
  const aedes = new Aedes()
  await aedes.listen()
  const server = createNetServer({ noDelay: true }, (socket) => aedes.handle(socket))
  const closeServer = closable(server)
  const port = await listen(server)
  return {
    aedes,
    url: `mqtt://127.0.0.1:${port}`,
    async close() {
      await closeServer()
      await new Promise<void>((resolve) => aedes.close(() => resolve()))
    },
  }
}

/** What the Butler route answers for the bench key, produced by a server doing nothing else. */
async function startBareHttp(): Promise<{ url: string; close: () => Promise<void> }> {
  const body = { namespace: BENCH.namespace, key: BENCH.key, value: BENCH.value }
  const server = createHttpServer((_req, res) => {
    const text = JSON.stringify(body)
    res
      .writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) })
      .end(text)
  })
  // The same socket settings as sensebus' shim, so only the request path differs.
  server.keepAliveTimeout = 5_000
  server.on('connection', (s: Socket) => s.setNoDelay(true))
  const close = closable(server)
  const port = await listen(server)
  return { url: `http://127.0.0.1:${port}`, close }
}

function publishRetained(aedes: Aedes, topic: string, payload: Buffer): Promise<void> {
  return new Promise((resolve, reject) =>
    aedes.publish({ cmd: 'publish', topic, payload, qos: 0, retain: true, dup: false }, (err?: Error) =>
      err ? reject(err) : resolve(),
    ),
  )
}

async function countRetained(aedes: Aedes, pattern: string): Promise<number> {
  const persistence = (aedes as unknown as { persistence: { createRetainedStream(p: string): Readable } }).persistence
  let n = 0
  for await (const _ of persistence.createRetainedStream(pattern)) n++
  return n
}

/** Runs `fn` over 0..count-1 with `width` calls in flight. */
async function pool(count: number, width: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) await fn(next++)
    }),
  )
}

async function main(): Promise<void> {
  const dirs: string[] = []
  const tempDir = async () => {
    const d = await mkdtemp(join(tmpdir(), 'sensebus-bench-'))
    dirs.push(d)
    return d
  }

  const main = await startSensebus(await tempDir())
  const seeded = await main.app.bus.request(
    'kv/set',
    { namespace: BENCH.namespace, key: BENCH.key, value: BENCH.value },
    { identity },
  )
  if (seeded.status !== 'ok') throw new Error(`could not seed the bench key: ${JSON.stringify(seeded)}`)
  // Raw echo on the same broker: acknowledge the delivery slot at once, republish on the next turn
  // (a synchronous re-publish from a deliver function recurses inside mqemitter, MQTT-STACK.md A1).
  const aedes = aedesOf(main.app)
  await new Promise<void>((resolve) =>
    aedes.subscribe(
      BENCH.rawEchoRequest,
      (packet, cb) => {
        const payload = packet.payload
        cb()
        setImmediate(() =>
          aedes.publish(
            { cmd: 'publish', topic: BENCH.rawEchoResponse, payload, qos: 1, retain: false, dup: false },
            noop,
          ),
        )
      },
      resolve,
    ),
  )
  await main.app.bus.subscribe(BENCH.busEchoRequest, (msg) => {
    void main.app.bus.publish(BENCH.busEchoResponse, msg.payload, { qos: 1 }).catch(noop)
  })

  const bareHttp = await startBareHttp()
  const bareMqtt = await startBareAedes()

  let retained: { app: Sensebus; bare: Awaited<ReturnType<typeof startBareAedes>> } | undefined
  let writes: Sensebus | undefined
  let eluPrev = performance.eventLoopUtilization()

  const handlers: Record<Command['cmd'], () => Promise<unknown>> = {
    async cpu(): Promise<CpuSample> {
      const u = process.cpuUsage()
      const elu = performance.eventLoopUtilization()
      const sample = {
        cpuUs: u.user + u.system,
        elu: performance.eventLoopUtilization(elu, eluPrev).utilization,
        syncBatches: sync.batches,
        syncBatchMs: sync.ms,
      }
      eluPrev = elu
      return sample
    },

    async 'retained:setup'(): Promise<RetainedEndpoints> {
      if (retained) throw new Error('retained targets already set up')
      const app = await startSensebus(await tempDir())
      const total = BENCH.retainedNamespaces * BENCH.retainedKeysPerNamespace
      const value = 'r'.repeat(64)
      const t0 = performance.now()
      await pool(total, 32, async (i) => {
        const env = await app.app.bus.request(
          'kv/set',
          {
            namespace: retainedNs(Math.floor(i / BENCH.retainedKeysPerNamespace)),
            key: retainedKey(i % BENCH.retainedKeysPerNamespace),
            value,
          },
          { timeoutMs: 60_000, identity },
        )
        if (env.status !== 'ok') throw new Error(`kv/set failed while populating: ${JSON.stringify(env)}`)
      })
      const populateMs = performance.now() - t0
      // The mirror publishes after each set is durable; wait until Aedes holds every retained copy.
      const appAedes = aedesOf(app.app)
      const deadline = Date.now() + 60_000
      let mirrored = 0
      while ((mirrored = await countRetained(appAedes, 'sense/state/kv/#')) < total) {
        if (Date.now() > deadline) throw new Error(`only ${mirrored}/${total} keys mirrored after 60 s`)
        await new Promise((r) => setTimeout(r, 100))
      }
      const mirrorSettleMs = performance.now() - t0 - populateMs

      const bare = await startBareAedes()
      for (let i = 0; i < total; i++) {
        const ns = retainedNs(Math.floor(i / BENCH.retainedKeysPerNamespace))
        const key = retainedKey(i % BENCH.retainedKeysPerNamespace)
        const payload = Buffer.from(
          JSON.stringify({ namespace: ns, key, value, expiresAt: null, updatedAt: new Date().toISOString() }),
        )
        await publishRetained(bare.aedes, `sense/state/kv/${ns}/${key}`, payload)
      }
      retained = { app, bare }
      return { appMqtt: app.mqttUrl, bareMqtt: bare.url, retainedKeys: mirrored, populateMs, mirrorSettleMs }
    },

    async 'write:setup'(): Promise<{ appHttp: string }> {
      if (writes) throw new Error('write target already set up')
      const app = await startSensebus(await tempDir())
      await pool(BENCH.writers * BENCH.writeKeysPerWriter, 32, async (i) => {
        const key = writeKey(Math.floor(i / BENCH.writeKeysPerWriter), i % BENCH.writeKeysPerWriter)
        const env = await app.app.bus.request(
          'kv/set',
          { namespace: BENCH.writeNamespace, key, value: BENCH.value },
          { identity },
        )
        if (env.status !== 'ok') throw new Error(`could not seed the write keys: ${JSON.stringify(env)}`)
      })
      writes = app
      return { appHttp: app.httpUrl }
    },

    /** Stops the 10k-key sensebus and starts it again on the same data dir: the mirror rebuild cost. */
    async 'retained:restart'(): Promise<{ restartMs: number; emptyStartMs: number; appMqtt: string }> {
      if (!retained) throw new Error('no retained target to restart')
      await retained.app.app.stop()
      retained.app = await startSensebus(retained.app.dataDir)
      return { restartMs: retained.app.startMs, emptyStartMs: main.startMs, appMqtt: retained.app.mqttUrl }
    },

    async shutdown() {
      await writes?.app.stop()
      await retained?.app.app.stop()
      await retained?.bare.close()
      await main.app.stop()
      await bareHttp.close()
      await bareMqtt.close()
      for (const d of dirs) await rm(d, { recursive: true, force: true })
      return null
    },
  }

  process.on('message', (raw: { id: number; command: Command }) => {
    const { id, command } = raw
    const handler = handlers[command.cmd]
    handler()
      .then((data) => send({ id, ok: true, data }))
      .catch((err: Error) => send({ id, ok: false, error: err.stack ?? err.message }))
      .finally(() => {
        if (command.cmd === 'shutdown') setTimeout(() => process.exit(0), 50)
      })
  })

  const ready: Endpoints = {
    appMqtt: main.mqttUrl,
    appHttp: main.httpUrl,
    bareHttp: bareHttp.url,
    bareMqtt: bareMqtt.url,
    appStartMs: main.startMs,
  }
  send({ ready })
}

// The parent dies → so do we; never leave a broker behind.
process.on('disconnect', () => process.exit(0))
main().catch((err: Error) => {
  send({ fatal: err.stack ?? err.message })
  process.exit(1)
})
