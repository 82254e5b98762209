import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import mqtt from 'mqtt'
import { openPolicy } from '../../src/broker/policy.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { connect } from '../helpers/client.js'
import { connectPacket, rawConnect, subscribePacket } from '../helpers/raw-mqtt.js'

describe('MQTT 3.1.1 conformance of the embedded broker', () => {
  let sb: TestApp
  beforeAll(async () => {
    sb = await startTestApp()
  })
  afterAll(async () => {
    await sb.stop({ clean: true })
  })

  it(
    '[MQTT-3.1.3-6][MQTT-3.1.3-7] accepts a zero-length client id with CleanSession=1 and assigns a unique ' + 'id',
    async () => {
      const a = await mqtt.connectAsync(sb.mqttUrl, { clientId: '', clean: true, reconnectPeriod: 0 })
      const b = await mqtt.connectAsync(sb.mqttUrl, { clientId: '', clean: true, reconnectPeriod: 0 })
      expect(a.connected && b.connected).toBe(true)
      // Both stay connected: the ids the broker assigned differ ([MQTT-3.1.4-2] would drop one otherwise).
      await new Promise((r) => setTimeout(r, 200))
      expect(a.connected && b.connected).toBe(true)
      await Promise.all([a.endAsync(), b.endAsync()])
    },
  )

  const port = () => Number(new URL(sb.mqttUrl).port)

  it('[MQTT-3.1.3-8] refuses a zero-length client id with CleanSession=0 with CONNACK 0x02, then closes', async () => {
    const raw = await rawConnect(port())
    raw.socket.write(connectPacket('', false))
    const connack = await raw.next()
    expect([...connack]).toEqual([0x20, 2, 0, 2])
    await raw.closed
  })

  it('[MQTT-4.8.0-1] closes the connection on a malformed topic filter (a protocol violation)', async () => {
    const raw = await rawConnect(port())
    raw.socket.write(connectPacket('raw-sub', true))
    expect([...(await raw.next())]).toEqual([0x20, 2, 0, 0])
    raw.socket.write(subscribePacket(7, [['bad/#/filter', 1]]))
    await raw.closed
  })

  it('answers a subscription the policy does not allow with 0x80 in SUBACK and keeps the connection', async () => {
    const strict = await startTestApp({
      policy: { ...openPolicy, canSubscribe: (_s, filter) => !filter.startsWith('secret/') },
    })
    const raw = await rawConnect(Number(new URL(strict.mqttUrl).port))
    raw.socket.write(connectPacket('raw-sub', true))
    expect([...(await raw.next())]).toEqual([0x20, 2, 0, 0])
    raw.socket.write(
      subscribePacket(7, [
        ['ok/+/topic', 1],
        ['secret/#', 1],
        ['ok/#', 0],
      ]),
    )
    expect([...(await raw.next())]).toEqual([0x90, 5, 0, 7, 1, 0x80, 0])
    raw.socket.write(Buffer.from([0xc0, 0])) // PINGREQ: still connected
    expect([...(await raw.next())]).toEqual([0xd0, 0])
    raw.socket.end()
    await strict.stop({ clean: true })
  })

  it('refuses protocol version 5 with return code 1 (Aedes 1.x speaks 3.1.1)', async () => {
    const err = await mqtt.connectAsync(sb.mqttUrl, { protocolVersion: 5, reconnectPeriod: 0 }).catch((e: Error) => e)
    expect(err).toBeInstanceOf(Error)
  })

  it('serves MQTT over WebSocket with the same requests', async () => {
    const ws = await connect(sb.wsUrl!)
    const env = await ws.request('util/ping')
    expect(env.status).toBe('ok')
    await ws.end()
  })

  it('[MQTT-4.7.1-2] sends a new a/# subscription the retained message of a itself (the parent level)', async () => {
    const pub = await mqtt.connectAsync(sb.mqttUrl, { reconnectPeriod: 0 })
    await pub.publishAsync('conf/parent', 'p', { qos: 1, retain: true })
    await pub.publishAsync('conf/parent/child', 'c', { qos: 1, retain: true })
    await pub.publishAsync('conf/parentless', 'x', { qos: 1, retain: true })
    const expected: Record<string, string[]> = {
      'conf/parent/#': ['conf/parent', 'conf/parent/child'],
      'conf/+/#': ['conf/parent', 'conf/parent/child', 'conf/parentless'],
    }
    for (const [filter, want] of Object.entries(expected)) {
      const c = await connect(sb.mqttUrl)
      const got = await c.collect(filter)
      // retain=1: sent for this SUBSCRIBE ([MQTT-3.3.1-8]), not forwarded live.
      const topics = () => got.filter((m) => m.retain).map((m) => m.topic)
      await expect.poll(() => topics().length).toBe(want.length)
      expect(topics().sort()).toEqual(want)
      await c.end()
    }
    await pub.endAsync()
  })

  it('delivers retained messages to an MQTT Explorer-style # subscriber, and $SYS only when asked', async () => {
    const c = await connect(sb.mqttUrl)
    const all = await c.collect('#')
    await expect.poll(() => all.some((m) => m.topic === 'sense/bridge/info')).toBe(true)
    expect(all.some((m) => m.topic.startsWith('$SYS'))).toBe(false)
    await c.end()
  })
})
