import { afterEach, describe, expect, it } from 'vitest'
import mqtt from 'mqtt'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { connect } from '../helpers/client.js'

describe('embedded broker persistence across restarts', () => {
  let sb: TestApp | undefined
  afterEach(async () => {
    await sb?.stop({ clean: true })
    sb = undefined
  })

  it('keeps retained messages, and clean:false subscriptions with their queued QoS 1 messages', async () => {
    sb = await startTestApp()
    const dataDir = sb.dataDir
    const publisher = await connect(sb.mqttUrl)
    await publisher.mqtt.publishAsync('plant/line1/status', 'running', { qos: 1, retain: true })
    await publisher.mqtt.publishAsync('plant/line2/status', 'to-be-cleared', { qos: 1, retain: true })
    await publisher.mqtt.publishAsync('plant/line2/status', '', { qos: 1, retain: true })

    const durable = await mqtt.connectAsync(sb.mqttUrl, { clientId: 'durable-1', clean: false, reconnectPeriod: 0 })
    await durable.subscribeAsync('orders/#', { qos: 1 })
    await durable.endAsync()
    await publisher.mqtt.publishAsync('orders/1', 'first', { qos: 1 })
    await publisher.mqtt.publishAsync('orders/2', 'second', { qos: 1 })
    await publisher.end()
    await sb.stop()

    sb = await startTestApp({ dataDir })
    const back = mqtt.connect(sb.mqttUrl, { clientId: 'durable-1', clean: false, reconnectPeriod: 0 })
    const received: string[] = []
    back.on('message', (topic, payload) => received.push(`${topic}=${payload.toString()}`))
    const connack = await new Promise<{ sessionPresent: boolean }>((resolve) => back.once('connect', resolve))
    expect(connack.sessionPresent).toBe(true)
    await expect.poll(() => received).toEqual(['orders/1=first', 'orders/2=second'])
    await back.endAsync()

    const reader = await connect(sb.mqttUrl)
    const retained = await reader.collect('plant/#')
    await expect.poll(() => retained.map((m) => `${m.topic}=${m.payload}`)).toEqual(['plant/line1/status=running'])
    expect(retained[0]!.retain).toBe(true)
    await reader.end()
  })
})

describe('bridge topics', () => {
  it('publishes retained online state and info, and offline on clean shutdown', async () => {
    const sb = await startTestApp()
    const reader = await connect(sb.mqttUrl)
    const seen = await reader.collect('sense/bridge/#')
    await expect.poll(() => seen.length).toBe(2)
    const state = seen.find((m) => m.topic === 'sense/bridge/state')!
    const info = JSON.parse(seen.find((m) => m.topic === 'sense/bridge/info')!.payload)
    expect(JSON.parse(state.payload)).toEqual({ state: 'online' })
    expect(state.retain).toBe(true)
    expect(info).toMatchObject({
      version: expect.any(String),
      baseTopic: 'sense',
      capabilities: expect.arrayContaining(['kv/set', 'util/ping']),
    })
    await reader.end()
    const dataDir = sb.dataDir
    await sb.stop()

    // The offline state was retained in the broker's store before it closed: it is what a
    // subscriber would have seen; after a restart it is back to online.
    const again = await startTestApp({ dataDir })
    const r2 = await connect(again.mqttUrl)
    const states = await r2.collect('sense/bridge/state')
    await expect.poll(() => states.map((s) => JSON.parse(s.payload).state)).toEqual(['online'])
    await r2.end()
    await again.stop({ clean: true })
  })
})
