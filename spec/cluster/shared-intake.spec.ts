import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Intake } from '../../src/capabilities/alert/intake.js'
import type { TaskDatagram } from '../../src/capabilities/alert/datagram.js'
import { silentLogger } from '../../src/log.js'
import { RedisStore } from '../../src/services/store/redis-store.js'
import { type RedisServer, startRedis } from '../helpers/redis.js'

/**
 * The alert intake of several instances on one Redis: a datagram that reaches all of them is handled
 * once, and one whose instance died while handling it is taken over by another.
 */
let redis: RedisServer
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis?.stop()
})

const openStore = () =>
  RedisStore.open({
    url: redis.url,
    keyPrefix: 'intake:',
    expiryPollMs: 50,
    commandTimeoutMs: 2000,
    log: silentLogger(),
  })

function intakeOn(store: RedisStore, instance: string, run: (d: TaskDatagram) => Promise<unknown>): Intake {
  return new Intake(
    store.collection('alert-intake'),
    { dedupTtlMs: 60_000, concurrency: 4 },
    silentLogger(),
    (d) => run(d),
    { claims: store.collection<string>('alert-claim'), instance, claimMs: 200 },
  )
}

const datagram = (executionId: string) => ({ executionId }) as unknown as TaskDatagram

describe('alert intake on a shared Redis store', () => {
  it('handles a datagram sent to every instance once, and takes over one whose instance died', async () => {
    const stores = [await openStore(), await openStore(), await openStore()]
    const handled: string[] = []
    const [a, b, c] = stores.map((s, i) =>
      intakeOn(s, `i${i}`, async (d) => {
        handled.push(`${d.executionId}@i${i}`)
      }),
    )
    const verdicts = await Promise.all([a, b, c].map((x) => x?.accept(datagram('e1'))))
    expect(verdicts.filter((v) => v === 'accepted')).toHaveLength(1)
    await expect.poll(() => handled.length).toBe(1)

    // An instance that notes an event and dies mid-way (its run never ends, its store connection is gone).
    const doomedStore = await openStore()
    const doomed = intakeOn(doomedStore, 'doomed', () => new Promise(() => undefined))
    expect(await doomed.accept(datagram('e2'))).toBe('accepted')
    doomed.close()
    await doomedStore.close()
    b?.watch()
    await expect.poll(() => handled.filter((h) => h.startsWith('e2@')), { timeout: 5000 }).toEqual(['e2@i1'])
    // Taken over once: later rounds find it done.
    await new Promise((r) => setTimeout(r, 800))
    expect(handled.filter((h) => h.startsWith('e2@'))).toHaveLength(1)
    for (const x of [a, b, c]) x?.close()
    for (const s of stores) await s.close()
  })
})
