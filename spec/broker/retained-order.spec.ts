import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { connect } from '../helpers/client.js'

describe('a retained publish overtaken by a later one', () => {
  let sb: TestApp
  beforeAll(async () => {
    sb = await startTestApp()
  })
  afterAll(async () => sb?.stop({ clean: true }))

  // Aedes stores a retained message before emitting it; the event published just after used to
  // arrive first, and the broker's dedupe then dropped the state for clients reading both trees.
  it.each(['mqtt', 'ws'] as const)('still reaches a client subscribed to both trees (%s)', async (kind) => {
    const client = await connect(kind === 'mqtt' ? sb.mqttUrl : (sb.wsUrl as string))
    const events = await client.collect('sense/event/#')
    const states = await client.collect('sense/state/#')
    for (let i = 0; i < 3; i++) {
      await Promise.all([
        sb.app.bus.publish(`sense/state/task/${kind}`, { i }, { qos: 1, retain: true }),
        sb.app.bus.publish('sense/event/task/finished', { i }, { qos: 1 }),
      ])
    }
    await expect.poll(() => events.length).toBe(3)
    const live = () => states.filter((s) => s.topic === `sense/state/task/${kind}` && !s.retain)
    await expect.poll(() => live().map((s) => JSON.parse(s.payload).i)).toEqual([0, 1, 2])
    await client.end()
  })

  it('still reaches a client with overlapping subscriptions once', async () => {
    const client = await connect(sb.mqttUrl)
    const got = await client.collect('sense/#')
    await client.mqtt.subscribeAsync(['sense/state/#', 'sense/state/task/+', 'sense/event/#'], { qos: 1 })
    for (let i = 0; i < 3; i++) {
      await Promise.all([
        sb.app.bus.publish('sense/state/task/overlap', { i }, { qos: 1, retain: true }),
        sb.app.bus.publish('sense/event/task/finished', { i }, { qos: 0 }),
      ])
    }
    const live = () => got.filter((m) => !m.retain).map((m) => `${m.topic} ${JSON.parse(m.payload).i}`)
    await expect.poll(() => live().length).toBe(6)
    await new Promise((r) => setTimeout(r, 200))
    expect(live().sort()).toEqual(
      [0, 1, 2].flatMap((i) => [`sense/event/task/finished ${i}`, `sense/state/task/overlap ${i}`]).sort(),
    )
    await client.end()
  })
})
