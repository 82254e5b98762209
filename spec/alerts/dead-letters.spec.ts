import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { connect, type TestClient } from '../helpers/client.js'
import { type HookReceiver, startHookReceiver } from './harness.js'

type Delivery = { itemId: string; state: string; attempts: number; lastError?: string }
type Summary = { id: string; deliveries: Delivery[]; counts: { dead: number; delivered: number } }
type Receipt = { topic: string; payload: string }
type ReceiptData = { alertId: string; deliveryId: string; destination: string; attempts: number; error?: string }

/**
 * A delivery that runs out of attempts moves to dead letters (`sense/event/alert/dead`) and stays there,
 * also across a restart, until `alert/retry` sends it again: one delivery, one alert, or all of them.
 */
describe('dead letters and alert/retry', () => {
  let sb: TestApp
  let client: TestClient
  let hook: HookReceiver
  let receipts: Receipt[]
  const overrides = {
    'outbox.baseDelayMs': 50,
    'outbox.maxDelayMs': 200,
    'outbox.maxAttempts': 2,
  }

  const watch = async () => {
    client = await connect(sb.mqttUrl)
    receipts = await client.collect('sense/event/alert/#')
  }
  beforeAll(async () => {
    hook = await startHookReceiver()
    hook.otherwise = { status: 503 }
    sb = await startTestApp({
      overrides: {
        ...overrides,
        'capabilities.alert.destinations': { ops: { type: 'webhook', url: hook.url } },
      },
    })
    await watch()
  }, 30_000)
  afterAll(async () => {
    await client?.end()
    await sb?.stop({ clean: true })
    await hook?.close()
  })

  const send = async () => {
    const r = await client.request<Summary>('alert/test', { destination: 'ops' })
    if (r.status !== 'ok') throw new Error(JSON.stringify(r))
    return r.data
  }
  const data = (topic: string) =>
    receipts.filter((x) => x.topic === topic).map((x) => JSON.parse(x.payload).data as ReceiptData)
  const dead = () => data('sense/event/alert/dead')
  const delivered = (id: string) => data(`sense/event/alert/${id}/delivered`)
  const callsFor = (id: string) => hook.calls.filter((c) => JSON.parse(c.body).alertId === id)
  const listed = async (id: string) => {
    const r = await client.request<{ alerts: Summary[] }>('alert/list', {})
    if (r.status !== 'ok') throw new Error(JSON.stringify(r))
    return r.data.alerts.find((a) => a.id === id)
  }
  const retry = (body: Record<string, string>) => client.request<{ retried: string[] }>('alert/retry', body)

  let alerts: Summary[] = []

  it('moves a delivery to dead letters after its last attempt, and a 4xx at once', async () => {
    alerts = [await send(), await send(), await send()]
    await expect.poll(() => dead().length, { timeout: 20_000 }).toBe(3)
    for (const a of alerts) {
      const letter = dead().find((d) => d.alertId === a.id)
      expect(letter).toMatchObject({ deliveryId: a.deliveries[0]?.itemId, destination: 'ops', attempts: 2 })
      expect(letter?.error).toContain('answered 503')
      expect(callsFor(a.id)).toHaveLength(2)
      expect(data(`sense/event/alert/${a.id}/failed`)).toHaveLength(2)
      await expect.poll(async () => (await listed(a.id))?.counts.dead).toBe(1)
    }
    // A refusal that no retry can change (400) is a dead letter after one attempt.
    hook.script.push({ status: 400 })
    const refused = await send()
    await expect.poll(() => dead().filter((d) => d.alertId === refused.id).length, { timeout: 20_000 }).toBe(1)
    expect(dead().find((d) => d.alertId === refused.id)?.attempts).toBe(1)
    expect(callsFor(refused.id)).toHaveLength(1)
    alerts.push(refused)
    // Nothing more is tried on its own.
    const calls = hook.calls.length
    await new Promise((r) => setTimeout(r, 600))
    expect(hook.calls.length).toBe(calls)
  }, 40_000)

  it('sends one delivery again, then one alert, once the receiver is back', async () => {
    hook.otherwise = { status: 200 }
    const [a1, a2, a3] = alerts as [Summary, Summary, Summary]
    const one = await retry({ deliveryId: a1.deliveries[0]?.itemId ?? '' })
    expect(one).toMatchObject({ status: 'ok', data: { retried: [a1.deliveries[0]?.itemId] } })
    await expect.poll(() => delivered(a1.id).length, { timeout: 20_000 }).toBe(1)
    expect(delivered(a1.id)[0]?.attempts).toBe(1)
    await expect.poll(async () => (await listed(a1.id))?.counts).toMatchObject({ dead: 0, delivered: 1 })

    const byAlert = await retry({ alertId: a2.id })
    expect(byAlert).toMatchObject({ status: 'ok', data: { retried: [a2.deliveries[0]?.itemId] } })
    await expect.poll(() => delivered(a2.id).length, { timeout: 20_000 }).toBe(1)
    // The others were left alone.
    expect(callsFor(a3.id)).toHaveLength(2)
    expect(delivered(a3.id)).toHaveLength(0)
    // A delivered one is not sent twice.
    expect(await retry({ alertId: a1.id })).toMatchObject({ status: 'ok', data: { retried: [] } })
    expect(await retry({ deliveryId: a1.deliveries[0]?.itemId ?? '' })).toMatchObject({ data: { retried: [] } })
  }, 40_000)

  it('keeps dead letters across a restart and sends all of them again', async () => {
    const [a1, a2, a3, refused] = alerts as [Summary, Summary, Summary, Summary]
    await client.end()
    const dataDir = sb.dataDir
    await sb.stop()
    sb = await startTestApp({
      dataDir,
      overrides: { ...overrides, 'capabilities.alert.destinations': { ops: { type: 'webhook', url: hook.url } } },
    })
    await watch()
    expect((await listed(a3.id))?.counts.dead).toBe(1)
    const all = await retry({})
    expect(all.status).toBe('ok')
    if (all.status !== 'ok') return
    expect(new Set(all.data.retried)).toEqual(new Set([a3.deliveries[0]?.itemId, refused.deliveries[0]?.itemId]))
    await expect.poll(() => delivered(a3.id).length + delivered(refused.id).length, { timeout: 20_000 }).toBe(2)
    // Every alert reached the receiver exactly once with a 2xx answer: the first ones were refused.
    for (const a of [a1, a2, a3, refused]) expect((await listed(a.id))?.counts).toMatchObject({ delivered: 1, dead: 0 })
  }, 60_000)

  it('answers NOT_FOUND for an unknown delivery or alert', async () => {
    expect(await retry({ deliveryId: 'no-such-delivery' })).toMatchObject({
      status: 'error',
      error: { code: 'NOT_FOUND' },
    })
    expect(await retry({ alertId: 'no-such-alert' })).toMatchObject({ status: 'error', error: { code: 'NOT_FOUND' } })
  })
})
