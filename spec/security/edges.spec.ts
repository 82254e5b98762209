import mqtt, { type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { rawConnect } from '../helpers/raw-mqtt.js'
import { PASSWORDS, securityOverrides, startSecureApp, type SecureApp, TOKENS } from './harness.js'

const as = (user: keyof typeof PASSWORDS) => ({ username: user, password: PASSWORDS[user] })

function closed(client: MqttClient, ms = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    if (!client.connected) return resolve(true)
    const t = setTimeout(() => resolve(false), ms)
    client.once('close', () => {
      clearTimeout(t)
      resolve(true)
    })
  })
}

describe('edges an outside attack found', () => {
  let sb: SecureApp
  const clients: MqttClient[] = []
  const open = async (user: keyof typeof PASSWORDS, opts: mqtt.IClientOptions = {}) => {
    const c = await mqtt.connectAsync(sb.mqttUrl, { ...as(user), reconnectPeriod: 0, ...opts })
    clients.push(c)
    return c
  }

  beforeAll(async () => {
    sb = await startSecureApp({
      overrides: await securityOverrides({ 'broker.ws.origins': ['https://dashboard.example'] }),
    })
  })
  afterAll(async () => {
    for (const c of clients) c.end(true)
    await sb?.stop()
  })

  it('answers nothing on a topic too long to answer on, and keeps wildcard subscribers connected', async () => {
    const watcher = await open('admin')
    await watcher.subscribeAsync('sense/#')
    const attacker = await open('etl')
    await attacker.publishAsync(`sense/request/${'x'.repeat(65_535 - 'sense/request/'.length)}`, '{}', { qos: 1 })
    expect(await closed(watcher, 500)).toBe(false)
  })

  it('closes a connection whose PUBLISH topic is not valid UTF-8 or holds U+0000 ([MQTT-1.5.3])', async () => {
    const port = Number(new URL(sb.mqttUrl).port)
    for (const topic of [Buffer.from([0x73, 0x2f, 0xff, 0xfe]), Buffer.from('sense/request/util/ping\u0000')]) {
      const raw = await rawConnect(port)
      raw.socket.write(mqttConnectWithLogin('admin', PASSWORDS.admin))
      expect((await raw.next())[3]).toBe(0)
      const header = Buffer.alloc(2)
      header.writeUInt16BE(topic.length)
      const body = Buffer.concat([header, topic, Buffer.from('{}')])
      raw.socket.write(Buffer.concat([Buffer.from([0x30, body.length]), body]))
      await raw.closed
    }
  })

  it('answers a request bigger than one read batch, sent in one write', async () => {
    // Reads are capped per batch (flood fairness); a batch that held only part of a packet stalled.
    const c = await open('etl')
    const answers: string[] = []
    c.on('message', (_t, p) => answers.push(p.toString()))
    await c.subscribeAsync('sense/response/kv/set')
    const value = 'v'.repeat(300_000)
    await c.publishAsync('sense/request/kv/set', JSON.stringify({ namespace: 'big', key: 'k', value }), { qos: 1 })
    await vi.waitFor(() => expect(answers).toHaveLength(1), { timeout: 5000 })
  })

  it('strips the retain flag from requests, so none is stored', async () => {
    const observer = await open('watcher')
    await observer.publishAsync('sense/request/util/ping', '{"transaction":"r1"}', { qos: 1, retain: true })
    await new Promise((r) => setTimeout(r, 200))
    const admin = await open('admin')
    const seen: string[] = []
    admin.on('message', (t) => seen.push(t))
    await admin.subscribeAsync('sense/request/#')
    await new Promise((r) => setTimeout(r, 200))
    expect(seen).toEqual([])
  })

  it('still closes a connection that forges an answer on a sensebus tree', async () => {
    const c = await open('etl')
    void c.publishAsync('sense/response/kv/get', '{}', { qos: 1 }).catch(() => undefined)
    expect(await closed(c)).toBe(true)
  })

  it('refuses a cross-origin WebSocket upgrade unless the origin is listed', async () => {
    const ws = sb.url('ws')
    const attempt = (origin: string | undefined) =>
      new Promise<number>((resolve) => {
        const sock = new WebSocket(ws, 'mqtt', origin ? { origin } : {})
        sock.on('open', () => {
          sock.close()
          resolve(101)
        })
        sock.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
        sock.on('error', () => resolve(0))
      })
    expect(await attempt('https://evil.example')).toBe(403)
    expect(await attempt('https://dashboard.example')).toBe(101)
    expect(await attempt(undefined)).toBe(101)
  })
})

describe('HTTP edges an outside attack found', () => {
  let sb: SecureApp
  const auth = { authorization: `Bearer ${TOKENS.admin}`, 'content-type': 'application/json' }

  beforeAll(async () => {
    sb = await startSecureApp({ overrides: await securityOverrides({}) })
  })
  afterAll(async () => {
    await sb?.stop()
  })

  it('answers a body nested 10,000 deep with 400 VALIDATION_FAILED on both dialects, as MQTT does', async () => {
    const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`
    for (const path of ['/v4/keyvalues/ns', '/api/v1/kv/set']) {
      const res = await fetch(`${sb.httpUrl}${path}`, { method: 'POST', headers: auth, body: deep })
      expect(res.status).toBe(400)
      expect(await res.json()).toMatchObject({ code: 'VALIDATION_FAILED' })
    }
    expect((await fetch(`${sb.httpUrl}/v4/butlerping`, { headers: auth })).status).toBe(200)
  })

  it('answers 431 with a JSON body to a 20 KB header', async () => {
    const res = await fetch(`${sb.httpUrl}/v4/butlerping`, { headers: { ...auth, 'x-big': 'a'.repeat(20_000) } })
    expect(res.status).toBe(431)
    expect(await res.json()).toMatchObject({ code: 'HEADERS_TOO_LARGE' })
  })

  it('refuses malformed percent-encoding in the query instead of reading another key', async () => {
    await fetch(`${sb.httpUrl}/v4/keyvalues/ns`, {
      method: 'POST',
      headers: auth,
      body: '{"key":"\ufffd\ufffd","value":"v"}',
    })
    const res = await fetch(`${sb.httpUrl}/v4/keyvalues/ns?key=%FF%FE`, { headers: auth })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('query') })
    const ok = await fetch(`${sb.httpUrl}/v4/keyvalues/ns?key=%EF%BF%BD%EF%BF%BD`, { headers: auth })
    expect(await ok.json()).toMatchObject({ value: 'v' })
  })
})

/** CONNECT with user name and password flags (the helper's connectPacket has none). */
function mqttConnectWithLogin(username: string, password: string): Buffer {
  const str = (s: string) => {
    const b = Buffer.from(s)
    const l = Buffer.alloc(2)
    l.writeUInt16BE(b.length)
    return Buffer.concat([l, b])
  }
  const body = Buffer.concat([
    str('MQTT'),
    Buffer.from([4, 0xc2, 0, 30]),
    str(`edge-${Math.random().toString(36).slice(2)}`),
    str(username),
    str(password),
  ])
  return Buffer.concat([Buffer.from([0x10, body.length]), body])
}
