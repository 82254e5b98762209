import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import mqtt from 'mqtt'
import { openPolicy } from '../../src/broker/policy.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { connect } from '../helpers/client.js'

/**
 * Aedes with level persistence drops 1-3% of concurrent QoS 1 publishes to clean subscribers when a
 * clean:false subscriber shares the topic (aedes#955/#994, MQTT-STACK.md A2). sensebus' own handlers
 * must not be exposed to it: these tests recreate exactly that setup on our request and event topics.
 */
describe('no message loss on sensebus topics with a clean:false subscriber present', () => {
  let sb: TestApp
  beforeAll(async () => {
    // The event test publishes on sense/event/ as a client, which the security policy rightly forbids
    // (only sensebus may publish there); this spec is about Aedes delivery, so it runs without ACLs.
    sb = await startTestApp({ overrides: { 'bus.maxInFlight': 10_000 }, policy: openPolicy })
  })
  afterAll(async () => {
    await sb.stop({ clean: true })
  })

  it('answers every one of 2,000 concurrent QoS 1 requests', async () => {
    const durable = await mqtt.connectAsync(sb.mqttUrl, { clientId: 'archiver', clean: false, reconnectPeriod: 0 })
    await durable.subscribeAsync('sense/request/#', { qos: 1 })
    const clients = await Promise.all(Array.from({ length: 4 }, () => connect(sb.mqttUrl)))
    const results = await Promise.all(
      clients.flatMap((c, i) =>
        Array.from({ length: 500 }, (_, j) =>
          c.request('util/ping', { transaction: `l${i}-${j}` }, { timeoutMs: 30_000 }),
        ),
      ),
    )
    expect(results.filter((r) => r.status === 'ok')).toHaveLength(2000)
    await Promise.all(clients.map((c) => c.end()))
    await durable.endAsync()
  }, 60_000)

  it('delivers every one of 2,000 concurrent QoS 1 events to an in-process subscriber', async () => {
    const durable = await mqtt.connectAsync(sb.mqttUrl, {
      clientId: 'event-archiver',
      clean: false,
      reconnectPeriod: 0,
    })
    await durable.subscribeAsync('sense/event/#', { qos: 1 })
    const seen = new Set<string>()
    const off = await sb.app.bus.subscribe('sense/event/test/#', (m) => {
      seen.add(m.payload.toString())
    })
    const publishers = await Promise.all(
      Array.from({ length: 4 }, () => mqtt.connectAsync(sb.mqttUrl, { reconnectPeriod: 0 })),
    )
    await Promise.all(
      publishers.flatMap((p, i) =>
        Array.from({ length: 500 }, (_, j) => p.publishAsync('sense/event/test/tick', `${i}-${j}`, { qos: 1 })),
      ),
    )
    await expect.poll(() => seen.size, { timeout: 10_000 }).toBe(2000)
    await off()
    await Promise.all(publishers.map((p) => p.endAsync()))
    await durable.endAsync()
  }, 60_000)
})
