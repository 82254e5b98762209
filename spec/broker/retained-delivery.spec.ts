import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { connect } from '../helpers/client.js'

/** Enough retained messages for several of retained-delivery.ts' 64 KB batches. */
const COUNT = 3000
const payloadOf = (i: number) => JSON.stringify({ i, pad: 'p'.repeat(100) })

describe('retained messages for a new subscription (written in batches)', () => {
  let sb: TestApp
  beforeAll(async () => {
    sb = await startTestApp()
    await Promise.all(
      Array.from({ length: COUNT }, (_, i) =>
        sb.app.bus.publish(`sense/state/batch/${i}`, payloadOf(i), { qos: 1, retain: true }),
      ),
    )
  })
  afterAll(async () => sb?.stop({ clean: true }))

  async function receiveAll(qos: 0 | 1) {
    const client = await connect(sb.mqttUrl)
    const got: Array<{ topic: string; payload: string; qos: number; retain: boolean }> = []
    client.mqtt.on('message', (topic, payload, packet) => {
      if (topic.startsWith('sense/state/batch/'))
        got.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain })
    })
    await client.mqtt.subscribeAsync('sense/state/batch/#', { qos })
    await expect.poll(() => got.length, { timeout: 10_000 }).toBe(COUNT)
    await new Promise((r) => setTimeout(r, 100))
    await client.end()
    return got
  }

  it('a wildcard subscriber gets each one once, with its payload and the retain flag', async () => {
    const got = await receiveAll(1)
    expect(got).toHaveLength(COUNT)
    expect(new Set(got.map((m) => m.topic)).size).toBe(COUNT)
    for (const m of got) {
      expect(m.payload).toBe(payloadOf(Number(m.topic.split('/').at(-1))))
      expect(m.retain).toBe(true)
      expect(m.qos).toBe(1)
    }
  })

  it('[MQTT-3.8.4-6] at the lower of the stored QoS and the granted one', async () => {
    const got = await receiveAll(0)
    expect(got.every((m) => m.qos === 0)).toBe(true)
  })
})
