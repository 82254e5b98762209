import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { silentLogger } from '../../src/log.js'
import { DurableOutbox } from '../../src/services/outbox/outbox.js'
import type { OutboxItem } from '../../src/services/outbox/types.js'
import { RedisStore } from '../../src/services/store/redis-store.js'
import { type RedisServer, startRedis } from '../helpers/redis.js'

/**
 * Outboxes of several instances on one Redis: each delivery is attempted by one of them at a time, an
 * item enqueued on one is delivered by another, and one whose owner died mid-attempt is taken over.
 */
let redis: RedisServer
let prefix = 0
const open: Array<{ outbox: DurableOutbox; store: RedisStore }> = []

beforeAll(async () => {
  redis = await startRedis()
})
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.outbox.close()
    await o.store.close()
  }
})
afterAll(async () => {
  await redis?.stop()
})

async function instances(n: number, timeoutMs = 5000): Promise<DurableOutbox[]> {
  const keyPrefix = `ob${++prefix}:`
  const out: DurableOutbox[] = []
  for (let i = 0; i < n; i++) {
    const store = await RedisStore.open({
      url: redis.url,
      keyPrefix,
      expiryPollMs: 50,
      commandTimeoutMs: 2000,
      log: silentLogger(),
    })
    const outbox = await DurableOutbox.open({
      store,
      log: silentLogger(),
      maxAttempts: 5,
      baseDelayMs: 20,
      maxDelayMs: 100,
      concurrency: 8,
      timeoutMs,
      retainMs: 60_000,
      shared: { instance: `i${i}`, pollMs: 50 },
    })
    open.push({ outbox, store })
    out.push(outbox)
  }
  return out
}

describe('outbox on a shared Redis store', () => {
  it('three instances deliver 150 items, each once, whichever one enqueued it', async () => {
    const boxes = await instances(3)
    const calls = new Map<string, string[]>()
    boxes.forEach((box, i) =>
      box.register('hook', async (item: OutboxItem) => {
        calls.set(item.key, [...(calls.get(item.key) ?? []), `i${i}`])
        await new Promise((r) => setTimeout(r, 5))
        return undefined
      }),
    )
    for (let i = 0; i < 150; i++) await boxes[i % 3]?.enqueue([{ kind: 'hook', key: `k${i}`, payload: { i } }])
    await expect.poll(() => calls.size, { timeout: 10_000 }).toBe(150)
    await new Promise((r) => setTimeout(r, 500))
    expect([...calls.values()].filter((who) => who.length !== 1)).toEqual([])
    // Work spread over the instances (items reach those that did not enqueue them).
    expect(new Set([...calls.values()].flat()).size).toBeGreaterThan(1)
  })

  it('an item enqueued where no handler runs is delivered by an instance that has one', async () => {
    const [a, b] = await instances(2)
    const seen: string[] = []
    b?.register('only-b', async (item: OutboxItem) => {
      seen.push(item.key)
      return undefined
    })
    await a?.enqueue([{ kind: 'only-b', key: 'x1', payload: {} }])
    await expect.poll(() => seen, { timeout: 5000 }).toEqual(['x1'])
    await expect.poll(async () => (await a?.get((await a.list())[0]?.id ?? ''))?.state).toBe('delivered')
  })

  it('a delivery whose owner died mid-attempt is retried by another once its lease lapses', async () => {
    const [a, b] = await instances(2, 300)
    let started = () => undefined as void
    const attemptStarted = new Promise<void>((r) => (started = r))
    // A's attempt never ends and A's store goes away: as if the process died mid-delivery.
    a?.register('hook', async () => {
      started()
      return new Promise(() => undefined)
    })
    const [item] = (await a?.enqueue([{ kind: 'hook', key: 'orphan', payload: {} }])) ?? []
    await attemptStarted
    const dead = open.shift()
    dead?.store.close()
    const byB: number[] = []
    b?.register('hook', async (it: OutboxItem) => {
      byB.push(it.attempts)
      return undefined
    })
    await expect.poll(() => byB.length, { timeout: 10_000 }).toBe(1)
    // The lapsed attempt was never recorded: B's is the first on record.
    expect(byB).toEqual([1])
    await expect.poll(async () => (await b?.get(item?.id ?? ''))?.state).toBe('delivered')
  })
})
