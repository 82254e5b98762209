/**
 * One job of the store scenario (store.ts), in a process of its own so start-up time and RSS are
 * those of a fresh sensebus. Prints one JSON line on stdout and exits.
 *
 *   node store-child.js populate <dataDir> <keys>      write <keys> keys (no expiry) straight into the store
 *   node store-child.js start <dataDir>                start sensebus, report ready time and memory, stop
 *   node store-child.js expiry <dataDir> <keys>        set <keys> keys with distinct deadlines, report CPU per expiry
 */
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { startApp } from '../../src/app.js'
import { modules } from '../../src/capabilities/index.js'
import { KvStore } from '../../src/capabilities/kv/store.js'
import { systemIdentity } from '../../src/core/identity.js'
import { silentLogger } from '../../src/log.js'
import { LevelStore } from '../../src/services/store/level-store.js'
import { benchConfig } from './bench-config.js'

/** 1,000 keys per namespace: the default `maxKeysPerNamespace`. */
export const KEYS_PER_NAMESPACE = 1000
export const storeNs = (i: number) => `s${String(i).padStart(3, '0')}`
export const storeKey = (i: number) => `key${String(i).padStart(4, '0')}`
/** Who the bench's in-process requests speak for (the dispatcher refuses requests without an identity). */
const identity = systemIdentity('bench')
/** A 64-character value, as in the retained scenario. */
const VALUE = 'v'.repeat(64)

export type StoreChildResult =
  | { job: 'populate'; keys: number; ms: number }
  | {
      job: 'start'
      readyMs: number
      /** CPU the process spent in `startApp` (user + system): less sensitive to a busy machine. */
      cpuMs: number
      rssMb: number
      heapMb: number
      /** Bytes of the data dir before the start and after the stop: a restart should not grow it. */
      dirBytesBefore: number
      dirBytesAfter: number
    }
  | { job: 'expiry'; stored: number; expired: number; cpuUsPerKey: number; lagMs: number }

function configFor(dataDir: string) {
  return benchConfig(dataDir, {
    // Room for the bench's keys, and for the expiring ones in a namespace of their own.
    'capabilities.kv.maxKeys': 200_000,
    'capabilities.kv.maxNamespaces': 1000,
    'capabilities.kv.maxKeysPerNamespace': 100_000,
  })
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += (await stat(join(e.parentPath, e.name))).size
  }
  return total
}

async function populate(dataDir: string, keys: number): Promise<StoreChildResult> {
  const store = await LevelStore.open({ dir: dataDir, sync: false, cacheBytes: 1024 * 1024, log: silentLogger() })
  const kv = await KvStore.open(store, {
    maxKeysPerNamespace: KEYS_PER_NAMESPACE,
    maxNamespaces: 1000,
    maxKeys: 1_000_000,
    maxBytes: 1024 ** 3,
    maxValueBytes: 1024 * 1024,
  })
  const t0 = performance.now()
  const width = 256
  let next = 0
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < keys) {
        const i = next++
        await kv.set(storeNs(Math.floor(i / KEYS_PER_NAMESPACE)), storeKey(i % KEYS_PER_NAMESPACE), VALUE, 0)
      }
    }),
  )
  kv.close()
  await store.close()
  return { job: 'populate', keys, ms: performance.now() - t0 }
}

async function start(dataDir: string): Promise<StoreChildResult> {
  const dirBytesBefore = await dirBytes(dataDir)
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const app = await startApp({ config: configFor(dataDir), log: silentLogger(), modules })
  const readyMs = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  global.gc?.()
  const mem = process.memoryUsage()
  await app.stop()
  return {
    job: 'start',
    readyMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    rssMb: mem.rss / 2 ** 20,
    heapMb: mem.heapUsed / 2 ** 20,
    dirBytesBefore,
    dirBytesAfter: await dirBytes(dataDir),
  }
}

/**
 * Sets `keys` keys whose deadlines lie 1 ms apart, starting once every set is done, then measures the
 * process's CPU from the first deadline until the last key's retained mirror copy is cleared.
 */
async function expiry(dataDir: string, keys: number): Promise<StoreChildResult> {
  const app = await startApp({ config: configFor(dataDir), log: silentLogger(), modules })
  try {
    const stored = await countKeys(app)
    let cleared = 0
    let allCleared: () => void = () => undefined
    const done = new Promise<void>((r) => {
      allCleared = r
    })
    await app.bus.subscribe('sense/state/kv/expiring/#', (msg) => {
      if (msg.payload.length === 0 && ++cleared === keys) allCleared()
    })
    // Generous lead time so every set is durable before the first deadline, whatever the load.
    const lead = 2000 + keys
    const base = Date.now() + lead
    let next = 0
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < keys) {
          const i = next++
          const ttl = base + i - Date.now()
          const body = { namespace: 'expiring', key: storeKey(i), value: VALUE, ttl }
          const env = await app.bus.request('kv/set', body, { identity })
          if (env.status !== 'ok') throw new Error(`kv/set failed: ${JSON.stringify(env)}`)
        }
      }),
    )
    const wait = base - Date.now()
    if (wait < 0) throw new Error(`setting ${keys} keys overran the lead time by ${-wait} ms`)
    await new Promise((r) => setTimeout(r, wait))
    const cpu0 = process.cpuUsage()
    const timeout = setTimeout(() => allCleared(), 60_000 + keys * 10)
    await done
    clearTimeout(timeout)
    const cpu = process.cpuUsage(cpu0)
    if (cleared < keys) throw new Error(`only ${cleared}/${keys} keys expired in time`)
    return {
      job: 'expiry',
      stored,
      expired: keys,
      cpuUsPerKey: (cpu.user + cpu.system) / keys,
      lagMs: Date.now() - (base + keys - 1),
    }
  } finally {
    await app.stop()
  }
}

async function countKeys(app: Awaited<ReturnType<typeof startApp>>): Promise<number> {
  const env = await app.bus.request('kv/namespaces', {}, { identity })
  if (env.status !== 'ok') throw new Error(`kv/namespaces failed: ${JSON.stringify(env)}`)
  let n = 0
  for (const namespace of (env.data as { namespaces: string[] }).namespaces) {
    const keys = await app.bus.request('kv/keys', { namespace }, { identity })
    if (keys.status === 'ok') n += (keys.data as { keys: unknown[] }).keys.length
  }
  return n
}

async function main(): Promise<void> {
  const [job, dataDir, count] = process.argv.slice(2)
  if (!dataDir) throw new Error('usage: store-child.js populate|start|expiry <dataDir> [keys]')
  const n = Number(count ?? 0)
  let result: StoreChildResult
  if (job === 'populate') result = await populate(dataDir, n)
  else if (job === 'start') result = await start(dataDir)
  else if (job === 'expiry') result = await expiry(dataDir, n)
  else throw new Error(`unknown job ${job}`)
  process.stdout.write(`${JSON.stringify(result)}\n`)
  process.exit(0)
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`)
  process.exit(1)
})
