import mqtt, { type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, type TestClient } from '../helpers/client.js'
import { PASSWORDS, refusal, securityOverrides, startSecureApp, type SecureApp } from './harness.js'

const as = (user: keyof typeof PASSWORDS) => ({ username: user, password: PASSWORDS[user] })

function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => (client.connected ? client.once('close', () => resolve()) : resolve()))
}

/** SUBACK return codes per filter (mqtt.js rejects the whole call when one is 0x80). */
async function suback(client: MqttClient, filters: string | string[]): Promise<number[]> {
  try {
    return (await client.subscribeAsync(filters)).map((g) => g.qos)
  } catch (err) {
    const granted = (err as { packet?: { granted?: Array<number | { qos: number }> } }).packet?.granted
    if (!granted) throw err
    return granted.map((g) => (typeof g === 'number' ? g : g.qos))
  }
}

describe('MQTT identity and access', () => {
  let sb: SecureApp
  const clients: TestClient[] = []
  const open = async (user: keyof typeof PASSWORDS, opts: mqtt.IClientOptions = {}) => {
    const c = await connect(sb.mqttUrl, { ...as(user), ...opts })
    clients.push(c)
    return c
  }

  beforeAll(async () => {
    sb = await startSecureApp({ overrides: await securityOverrides() })
  })
  afterAll(async () => {
    await Promise.all(clients.map((c) => new Promise<void>((resolve) => c.mqtt.end(true, {}, () => resolve()))))
    await sb?.stop()
  })

  it('refuses a wrong password with CONNACK 4 and a missing login with CONNACK 5', async () => {
    expect(await refusal(sb.mqttUrl, { username: 'etl', password: 'nope' })).toBe(4)
    expect(await refusal(sb.mqttUrl, { username: 'nobody', password: 'nope' })).toBe(4)
    expect(await refusal(sb.mqttUrl, { username: 'etl' })).toBe(4)
    expect(await refusal(sb.mqttUrl, {})).toBe(5)
    // A certificate-only user cannot log in with a password.
    expect(await refusal(sb.mqttUrl, { username: 'cert-user', password: 'x' })).toBe(4)
  })

  it(
    'lets loadscript use KV and answers a capability outside its role with FORBIDDEN, keeping the ' + 'connection',
    async () => {
      const etl = await open('etl')
      expect(await etl.request('kv/set', { namespace: 'acl', key: 'k', value: 'v' })).toMatchObject({ status: 'ok' })
      const reader = await open('reader')
      const denied = await reader.request('kv/set', {
        namespace: 'acl',
        key: 'k',
        value: 'w',
        replyTo: 'sense/reply/reader-1/kv/set',
      })
      expect(denied).toMatchObject({ status: 'error', error: { code: 'FORBIDDEN' } })
      expect(reader.mqtt.connected).toBe(true)
      expect(await reader.request('kv/get', { namespace: 'acl', key: 'k' })).toMatchObject({
        status: 'ok',
        data: { value: 'v' },
      })
    },
  )

  it('keeps observer read-only: events and state yes, responses and requests no', async () => {
    const watcher = await open('watcher')
    expect(
      await suback(watcher.mqtt, [
        'sense/event/#',
        'sense/state/#',
        'sense/bridge/#',
        'sense/response/#',
        '#',
        'sense/request/#',
      ]),
    ).toEqual([0, 0, 0, 128, 128, 128])
    const denied = await watcher.request('util/ping', { replyTo: 'sense/reply/watcher-1/ping' })
    expect(denied).toMatchObject({ status: 'error', error: { code: 'FORBIDDEN' } })
  })

  it('closes a connection that publishes on a tree only sensebus may publish on, admin included', async () => {
    for (const topic of [
      'sense/state/kv/acl/k',
      'sense/response/kv/get',
      'sense/event/reload/failed',
      'sense/bridge/state',
      'sense/reply/sb-x/kv/get',
    ]) {
      const admin = await open('admin')
      const gone = closed(admin.mqtt)
      admin.mqtt.publish(topic, '{"forged":true}', { qos: 1, retain: true })
      await gone
    }
    const check = await open('admin')
    const seen = await check.collect('sense/#')
    await new Promise((r) => setTimeout(r, 300))
    expect(seen.filter((m) => m.payload.includes('forged'))).toEqual([])
    expect(JSON.parse(seen.find((m) => m.topic === 'sense/bridge/state')?.payload ?? '{}')).toEqual({ state: 'online' })
  })

  it('does not deliver a last will aimed at a sensebus-owned topic', async () => {
    const c = await mqtt.connectAsync(sb.mqttUrl, {
      ...as('admin'),
      reconnectPeriod: 0,
      will: { topic: 'sense/bridge/state', payload: Buffer.from('{"state":"forged"}'), qos: 1, retain: true },
    })
    c.stream.destroy()
    await new Promise((r) => setTimeout(r, 200))
    const check = await open('admin')
    const seen = await check.collect('sense/bridge/state')
    await expect.poll(() => seen.length).toBe(1)
    expect(seen[0]?.payload).toBe('{"state":"online"}')
  })

  it('applies config roles: publish inside the pattern is delivered, outside it is acked and dropped', async () => {
    const watcher = await open('admin')
    const seen = await watcher.collect('#')
    const sys = await watcher.collect('$SYS/forged')
    const reader = await open('reader')
    await reader.mqtt.publishAsync('apps/sense/x', 'hello', { qos: 1 })
    // Mosquitto's habit: a denied publish gets its PUBACK/PUBCOMP and reaches nobody; the client stays.
    await reader.mqtt.publishAsync('other/x', 'denied-1', { qos: 1 })
    await reader.mqtt.publishAsync('other/y', 'denied-2', { qos: 2, retain: true })
    await reader.mqtt.publishAsync('$SYS/forged', 'denied-3', { qos: 1 })
    await reader.mqtt.publishAsync('apps/sense/y', 'after', { qos: 1 })
    expect(reader.mqtt.connected).toBe(true)
    await expect.poll(() => seen.some((m) => m.payload === 'after')).toBe(true)
    expect(seen.filter((m) => !m.topic.startsWith('sense/')).map((m) => m.payload)).toEqual(['hello', 'after'])
    expect(sys).toEqual([])
    const retained = await (await open('admin')).collect('other/#')
    await new Promise((r) => setTimeout(r, 200))
    expect(retained).toEqual([])
  })

  it(
    'keeps private reply topics private: first subscriber owns an id, no wildcards, sensebus ids ' + 'reserved',
    async () => {
      const a = await open('etl')
      const b = await open('reader')
      expect((await suback(a.mqtt, 'sense/reply/req-a/#'))[0]).toBe(0)
      expect((await suback(b.mqtt, 'sense/reply/req-a/#'))[0]).toBe(128)
      expect((await suback(b.mqtt, 'sense/reply/+/kv/get'))[0]).toBe(128)
      expect((await suback(b.mqtt, 'sense/reply/#'))[0]).toBe(128)
      const info = await (await open('admin')).collect('sense/bridge/info')
      await expect.poll(() => info.length).toBe(1)
      const instance = (JSON.parse(info[0]!.payload) as { instance: string }).instance
      expect((await suback(b.mqtt, `sense/reply/${instance}/#`))[0]).toBe(128)
      await a.end()
      await expect.poll(async () => (await suback(b.mqtt, 'sense/reply/req-a/#'))[0]).toBe(0)
    },
  )

  it('writes an audit line per request with who, what, outcome and duration', async () => {
    const lines = sb.logs.filter((l) => l.area === 'audit' && l.msg === 'request')
    expect(lines).toContainEqual(
      expect.objectContaining({
        capability: 'kv/set',
        username: 'reader',
        roles: ['kv-reader'],
        transport: 'mqtt',
        outcome: 'FORBIDDEN',
        durationMs: expect.any(Number),
      }),
    )
    expect(lines).toContainEqual(
      expect.objectContaining({ capability: 'kv/set', username: 'etl', outcome: 'ok', clientId: expect.any(String) }),
    )
  })
})
