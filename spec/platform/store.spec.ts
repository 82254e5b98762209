import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Collection } from '../../src/core/store.js'
import { silentLogger } from '../../src/log.js'
import { GroupCommit } from '../../src/services/store/group-commit.js'
import { LevelStore } from '../../src/services/store/level-store.js'

let dir: string
const open = () => LevelStore.open({ dir, sync: false, cacheBytes: 1 << 20, log: silentLogger() })
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Records every expiry a collection reports, in order. */
function expiries(c: Collection<unknown>): string[] {
  const seen: string[] = []
  c.onExpire((e) => {
    seen.push(e.key)
  })
  return seen
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sensebus-store-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('store expiry', () => {
  it('expires many keys with distinct deadlines once each, in deadline order, and leaves the rest alone', async () => {
    const store = await open()
    try {
      const c = store.collection<number>('exp')
      const seen = expiries(c)
      await c.batch(Array.from({ length: 1000 }, (_, i) => ({ type: 'set' as const, key: `keep${i}`, value: i })))
      const base = Date.now() + 300
      // Written in reverse, so the order of expiry comes from the deadlines, not from the writes.
      const keys = Array.from({ length: 300 }, (_, i) => `k${String(i).padStart(3, '0')}`)
      await c.batch(keys.map((key, i) => ({ type: 'set' as const, key, value: i, expiresAt: base + i * 3 })).reverse())
      await expect.poll(() => seen.length, { timeout: 10_000 }).toBe(300)
      expect(seen).toEqual(keys)
      expect(await c.list({ prefix: 'k0' })).toEqual([])
      expect(await c.list({ prefix: 'k1' })).toEqual([])
      expect(await c.list({ prefix: 'k2' })).toEqual([])
      expect((await c.list({ prefix: 'keep' })).length).toBe(1000)
    } finally {
      await store.close()
    }
  })

  it('a rewrite moves the deadline: the key expires at the new one only', async () => {
    const store = await open()
    try {
      const c = store.collection<string>('exp')
      const seen = expiries(c)
      await c.set('a', 'first', { expiresAt: Date.now() + 150 })
      await c.set('a', 'second', { expiresAt: Date.now() + 600 })
      await c.set('b', 'kept', { expiresAt: Date.now() + 150 })
      await c.set('b', 'kept') // no deadline any more
      await sleep(350)
      expect(seen).toEqual([])
      expect((await c.get('a'))?.value).toBe('second')
      await expect.poll(() => seen, { timeout: 5000 }).toEqual(['a'])
      expect((await c.get('b'))?.value).toBe('kept')
    } finally {
      await store.close()
    }
  })

  it('after a restart mid-way, what came due while closed goes at open and the rest at its deadline', async () => {
    const first = await open()
    const base = Date.now() + 200
    const keys = Array.from({ length: 100 }, (_, i) => `k${String(i).padStart(3, '0')}`)
    const c1 = first.collection<number>('exp')
    const seen1 = expiries(c1)
    await c1.batch(keys.map((key, i) => ({ type: 'set' as const, key, value: i, expiresAt: base + i * 10 })))
    await expect.poll(() => seen1.length, { timeout: 5000 }).toBeGreaterThanOrEqual(20)
    await first.close()
    const before = seen1.length
    expect(before).toBeLessThan(100)
    await sleep(200) // some more come due while nothing runs

    const second = await open()
    try {
      const c2 = second.collection<number>('exp')
      const seen2 = expiries(c2)
      await expect.poll(() => seen1.length + seen2.length, { timeout: 5000 }).toBe(100)
      // Each key reported once, across both runs, in deadline order.
      expect([...seen1, ...seen2]).toEqual(keys)
      expect(await c2.list()).toEqual([])
    } finally {
      await second.close()
    }
  })

  it('entries written without the deadline index (an older layout) still expire once the store opens', async () => {
    // The data record as the store writes it, without the index record next to it and without the
    // layout's format mark: what a store from before the index holds.
    const db = new Level<string, string>(join(dir, 'store'), { valueEncoding: 'utf8' })
    await db.open()
    const soon = Date.now() + 300
    await db.put('d\u0000legacy\u0000old', `${soon}\u0001"v"`)
    await db.put('d\u0000legacy\u0000forever', '\u0001"w"')
    await db.close()

    const store = await open()
    try {
      const c = store.collection<string>('legacy')
      const seen = expiries(c)
      expect((await c.get('old'))?.value).toBe('v')
      await expect.poll(() => seen, { timeout: 5000 }).toEqual(['old'])
      expect(await c.list()).toEqual([{ key: 'forever', value: 'w', expiresAt: undefined }])
    } finally {
      await store.close()
    }
  })

  it('scans stream every live entry in key order, paged with after', async () => {
    const store = await open()
    try {
      const c = store.collection<number>('scan')
      await c.batch(Array.from({ length: 2500 }, (_, i) => ({ type: 'set' as const, key: `k${i}`, value: i })))
      await c.set('gone', 1, { expiresAt: Date.now() - 1 })
      const keys: string[] = []
      for await (const e of c.scan()) keys.push(e.key)
      expect(keys.length).toBe(2500)
      expect(keys).toEqual([...keys].sort())
      const page = await c.list({ after: keys[1000], limit: 3 })
      expect(page.map((e) => e.key)).toEqual(keys.slice(1001, 1004))
      // A prefix that ends in a character with no simple successor still bounds the range.
      await c.set('\uffffz', 1)
      expect((await c.list({ prefix: '\uffff' })).map((e) => e.key)).toEqual(['\uffffz'])
    } finally {
      await store.close()
    }
  })
})

describe('group commit', () => {
  it('concurrent writers share batches (not one flush each), and each write is on disk when it resolves', async () => {
    const db = new Level<string, string>(join(dir, 'gc'), { valueEncoding: 'utf8' })
    await db.open()
    let batches = 0
    const batch = db.batch.bind(db)
    // Counts the flushes, each made to take 50 ms as a slow disk's fsync would.
    ;(db as unknown as { batch: typeof batch }).batch = (async (ops: never, opts: never) => {
      batches++
      await sleep(50)
      return batch(ops, opts)
    }) as typeof batch
    const commit = new GroupCommit(db, true)
    const writers = Array.from({ length: 200 }, async (_, i) => {
      // Spread over several turns of the event loop, as requests arrive.
      await sleep(i % 20)
      await commit.write([{ type: 'put', key: `k${i}`, value: `v${i}` }])
      return db.get(`k${i}`)
    })
    expect(await Promise.all(writers)).toEqual(Array.from({ length: 200 }, (_, i) => `v${i}`))
    // Writes that arrive while a flush is under way wait for it and leave together: a handful of
    // flushes for 200 writes spread over 20 turns, not one per turn.
    expect(batches).toBeLessThanOrEqual(4)
    await db.close()
  })
})
