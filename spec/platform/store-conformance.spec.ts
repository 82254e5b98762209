import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Collection, Store } from '../../src/core/store.js'
import { silentLogger } from '../../src/log.js'
import { LevelStore } from '../../src/services/store/level-store.js'
import { RedisStore } from '../../src/services/store/redis-store.js'
import { type RedisServer, startRedis } from '../helpers/redis.js'

/** The same cases against every backend: what a capability may count on whichever one is configured. */
let redis: RedisServer
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis?.stop()
})

interface Backend {
  name: string
  /** A fresh, empty store; `again()` opens a second handle on the same data (another instance for redis). */
  open(): Promise<{ store: Store; again(): Promise<Store>; cleanup(): Promise<void> }>
}

const backends: Backend[] = [
  {
    name: 'level',
    async open() {
      const dir = await mkdtemp(join(tmpdir(), 'sensebus-redis-conf-'))
      const open = () => LevelStore.open({ dir, sync: false, cacheBytes: 1 << 20, log: silentLogger() })
      return {
        store: await open(),
        // LevelDB has one owner at a time; a second handle is the same one reopened after a close.
        again: open,
        cleanup: () => rm(dir, { recursive: true, force: true }),
      }
    },
  },
  {
    name: 'redis',
    async open() {
      const keyPrefix = `t${randomUUID().slice(0, 8)}:`
      const open = () =>
        RedisStore.open({ url: redis.url, keyPrefix, expiryPollMs: 50, commandTimeoutMs: 2000, log: silentLogger() })
      return { store: await open(), again: open, cleanup: async () => undefined }
    },
  },
]

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function expiries(c: Collection<unknown>): string[] {
  const seen: string[] = []
  c.onExpire((e) => {
    seen.push(e.key)
  })
  return seen
}

describe.each(backends)('store conformance: $name', (backend) => {
  const opened: Store[] = []
  let cleanup: () => Promise<void> = async () => undefined
  const fresh = async () => {
    const o = await backend.open()
    opened.push(o.store)
    cleanup = o.cleanup
    return o
  }
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close().catch(() => undefined)
    await cleanup()
  })

  it('set, get and delete; delete says whether a live entry went', async () => {
    const { store } = await fresh()
    const c = store.collection<{ n: number }>('basic')
    expect(await c.get('a')).toBeUndefined()
    await c.set('a', { n: 1 })
    expect(await c.get('a')).toEqual({ key: 'a', value: { n: 1 }, expiresAt: undefined })
    await c.set('a', { n: 2 }, { expiresAt: Date.now() + 60_000 })
    expect((await c.get('a'))?.value).toEqual({ n: 2 })
    expect(await c.delete('a')).toBe(true)
    expect(await c.delete('a')).toBe(false)
    await c.set('gone', { n: 3 }, { expiresAt: Date.now() - 1 })
    expect(await c.get('gone')).toBeUndefined()
    expect(await c.delete('gone')).toBe(false)
    // Collections are separate name spaces.
    await store.collection<number>('other').set('a', 9)
    expect(await c.get('a')).toBeUndefined()
  })

  it('create succeeds once among concurrent callers, and again once the entry expired', async () => {
    const { store } = await fresh()
    const c = store.collection<number>('lease')
    const wins = await Promise.all(Array.from({ length: 40 }, (_, i) => c.create('k', i)))
    expect(wins.filter(Boolean)).toHaveLength(1)
    expect((await c.get('k'))?.value).toBe(wins.indexOf(true))
    expect(await c.create('short', 1, { expiresAt: Date.now() + 80 })).toBe(true)
    expect(await c.create('short', 2, { expiresAt: Date.now() + 80 })).toBe(false)
    await sleep(120)
    expect(await c.create('short', 3)).toBe(true)
    expect((await c.get('short'))?.value).toBe(3)
  })

  it('expires at the deadline, tells onExpire once per entry in deadline order, and a rewrite moves it', async () => {
    const { store } = await fresh()
    const c = store.collection<number>('exp')
    const seen = expiries(c)
    const base = Date.now() + 200
    const keys = Array.from({ length: 100 }, (_, i) => `k${String(i).padStart(3, '0')}`)
    await c.batch(keys.map((key, i) => ({ type: 'set' as const, key, value: i, expiresAt: base + i * 3 })).reverse())
    await c.set('moved', 1, { expiresAt: Date.now() + 100 })
    await c.set('moved', 2, { expiresAt: Date.now() + 900 })
    await c.set('kept', 1, { expiresAt: Date.now() + 100 })
    await c.set('kept', 2)
    await expect.poll(() => seen.length, { timeout: 5000 }).toBe(100)
    expect(seen).toEqual(keys)
    expect((await c.get('moved'))?.value).toBe(2)
    await expect.poll(() => seen.length, { timeout: 5000 }).toBe(101)
    expect(seen.at(-1)).toBe('moved')
    await sleep(100)
    expect(seen).toHaveLength(101)
    expect((await c.get('kept'))?.value).toBe(2)
    expect((await c.list()).map((e) => e.key)).toEqual(['kept'])
  })

  it('a batch writes all of its ops or none, also across collections', async () => {
    const { store } = await fresh()
    const a = store.collection<unknown>('ba')
    const b = store.collection<unknown>('bb')
    await a.set('x', 0)
    await store.batch([
      { collection: 'ba', type: 'set', key: 'y', value: 1 },
      { collection: 'bb', type: 'set', key: 'y', value: 2, expiresAt: Date.now() + 60_000 },
      { collection: 'ba', type: 'delete', key: 'x' },
    ])
    expect((await a.list()).map((e) => [e.key, e.value])).toEqual([['y', 1]])
    expect((await b.get('y'))?.value).toBe(2)
    // A value JSON cannot hold fails the whole batch: nothing of it lands.
    await expect(
      store.batch([
        { collection: 'ba', type: 'set', key: 'z', value: 1 },
        { collection: 'bb', type: 'set', key: 'z', value: { big: 1n } },
      ]),
    ).rejects.toThrow()
    await expect(
      a.batch([
        { type: 'delete', key: 'y' },
        { type: 'set', key: 'w', value: 1n },
      ]),
    ).rejects.toThrow()
    expect(await a.get('z')).toBeUndefined()
    expect((await a.get('y'))?.value).toBe(1)
    await expect(store.batch([{ collection: 'Bad Name', type: 'delete', key: 'q' }])).rejects.toThrow(
      /Invalid collection/,
    )
  })

  it('list, scan and keys: live entries in key order, by prefix, paged with after and limit', async () => {
    const { store } = await fresh()
    const c = store.collection<number>('scan')
    await c.batch(Array.from({ length: 1200 }, (_, i) => ({ type: 'set' as const, key: `k${i}`, value: i })))
    await c.batch(Array.from({ length: 30 }, (_, i) => ({ type: 'set' as const, key: `p/${i}`, value: i })))
    await c.set('gone', 1, { expiresAt: Date.now() - 1 })
    await c.set('\uffffz', 1)
    const keys: string[] = []
    for await (const e of c.scan({ prefix: 'k' })) keys.push(e.key)
    expect(keys).toHaveLength(1200)
    expect(keys).toEqual([...keys].sort())
    const bare: string[] = []
    for await (const k of c.keys({ prefix: 'k' })) bare.push(k)
    expect(bare).toEqual(keys)
    expect((await c.list({ after: keys[700], limit: 3, prefix: 'k' })).map((e) => e.key)).toEqual(keys.slice(701, 704))
    // Paging through a prefix by `after` visits every entry once.
    const paged: string[] = []
    let after: string | undefined
    for (;;) {
      const page = await c.list({ prefix: 'p/', limit: 7, ...(after !== undefined ? { after } : {}) })
      if (page.length === 0) break
      paged.push(...page.map((e) => e.key))
      after = page.at(-1)?.key
    }
    expect(paged).toHaveLength(30)
    expect(new Set(paged).size).toBe(30)
    expect((await c.list({ prefix: '\uffff' })).map((e) => e.key)).toEqual(['\uffffz'])
    expect((await c.list({ prefix: 'gone' })).length).toBe(0)
    const all = await c.list()
    expect(all).toHaveLength(1231)
  })

  it('a cached collection reads back its own writes, deletes and expiries; a reopened store sees them', async () => {
    const o = await fresh()
    const c = o.store.collection<string>('cached', { cache: true })
    await c.set('a', 'one')
    expect((await c.get('a'))?.value).toBe('one')
    await c.set('a', 'two')
    expect((await c.get('a'))?.value).toBe('two')
    await c.set('b', 'brief', { expiresAt: Date.now() + 60 })
    await sleep(100)
    expect(await c.get('b')).toBeUndefined()
    await c.delete('a')
    expect(await c.get('a')).toBeUndefined()
    await c.set('c', 'kept')
    if (backend.name === 'level') await o.store.close()
    const other = await o.again()
    opened.push(other)
    expect((await other.collection<string>('cached', { cache: true }).get('c'))?.value).toBe('kept')
    if (backend.name === 'redis') {
      // Two instances at once: a value cached by neither goes stale in neither.
      await other.collection<string>('cached', { cache: true }).set('c', 'changed elsewhere')
      expect((await c.get('c'))?.value).toBe('changed elsewhere')
    }
  })
})

describe('store conformance: redis shared by several instances', () => {
  it('each expiry is heard exactly once over all the instances', async () => {
    const open = () =>
      RedisStore.open({
        url: redis.url,
        keyPrefix: 'shared:',
        expiryPollMs: 50,
        commandTimeoutMs: 2000,
        log: silentLogger(),
      })
    const stores = [await open(), await open(), await open()]
    const heard = stores.map((s) => expiries(s.collection<number>('shared-exp')))
    const c = stores[0]!.collection<number>('shared-exp')
    const base = Date.now() + 150
    await c.batch(
      Array.from({ length: 300 }, (_, i) => ({ type: 'set' as const, key: `e${i}`, value: i, expiresAt: base + i })),
    )
    await expect.poll(() => heard.flat().length, { timeout: 5000 }).toBe(300)
    await sleep(200)
    const all = heard.flat()
    expect(all).toHaveLength(300)
    expect(new Set(all).size).toBe(300)
    for (const s of stores) await s.close()
  })
})
