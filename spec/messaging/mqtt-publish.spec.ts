import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sha256Hash } from '../../src/security/hash.js'
import { connect, type TestClient } from '../helpers/client.js'
import { startTestApp } from '../helpers/app.js'
import { startInMode } from '../helpers/modes.js'
import { call, expectButlerError, expectGenericError } from '../http/http-helpers.js'
import { type SecureApp, securityOverrides, startSecureApp, TOKENS } from '../security/harness.js'

type Json = Record<string, any>

const PUBLISHER_TOKEN = 'sbt_test-qlik-publisher-3c9d'
const BUTLER_HEADERS = { 'Content-Type': 'application/json', 'X-HTTP-Method-Override': 'PUT' }

describe('mqtt/publish on the embedded broker', () => {
  let sb: SecureApp
  let admin: TestClient
  beforeAll(async () => {
    sb = await startSecureApp({
      overrides: await securityOverrides({
        'capabilities.alert.udp.port': 0,
        'broker.retained.maxMessagesPerUser': 2,
        'capabilities.mqtt.maxMessageBytes': 64,
        'security.roles': {
          'kv-reader': { capabilities: ['kv/get'], publish: [], subscribe: [] },
          'qlik-publisher': { publish: ['qliksense/#'] },
        },
        'security.tokens': [
          { name: 'etl-scripts', hash: sha256Hash(TOKENS.etl), roles: ['loadscript'] },
          { name: 'ops', hash: sha256Hash(TOKENS.admin), roles: ['admin'] },
          { name: 'dashboard', hash: sha256Hash(TOKENS.watcher), roles: ['observer'] },
          { name: 'qlik', hash: sha256Hash(PUBLISHER_TOKEN), roles: ['loadscript', 'qlik-publisher'] },
        ],
      }),
    })
    admin = await connect(sb.mqttUrl, { username: 'admin', password: 'admin-pw-7f3a' })
  })
  afterAll(async () => {
    await admin?.end()
    await sb?.stop()
  })

  const http = (token: string, body: unknown, path = '/v4/mqttpublishmessage') =>
    call(sb.httpUrl, 'POST', path, {
      body: typeof body === 'string' ? body : JSON.stringify(body),
      headers: { ...BUTLER_HEADERS, authorization: `Bearer ${token}` },
    })

  it('publishes over the MQTT door with QoS and retain; an empty retained message clears it', async () => {
    const live = await admin.collect('plant/line1/#')
    const env = (await admin.request('mqtt/publish', {
      topic: 'plant/line1/status',
      message: '{"ok":true}',
      qos: 1,
      retain: true,
    })) as Json
    expect(env).toMatchObject({
      status: 'ok',
      data: { topic: 'plant/line1/status', qos: 1, retain: true, bytes: 11 },
    })
    await expect.poll(() => live.map((m) => m.payload)).toEqual(['{"ok":true}'])
    // A client connecting later gets it as the topic's retained message.
    const late = await connect(sb.mqttUrl, { username: 'admin', password: 'admin-pw-7f3a' })
    const retained = await late.collect('plant/line1/status')
    await expect.poll(() => retained).toEqual([{ topic: 'plant/line1/status', payload: '{"ok":true}', retain: true }])
    await late.end()
    const cleared = (await admin.request('mqtt/publish', {
      topic: 'plant/line1/status',
      message: '',
      retain: true,
    })) as Json
    expect(cleared.status).toBe('ok')
    expect(await sb.app.bus.retained('plant/line1/#')).toEqual([])
  })

  it("Butler's PostToMQTT sub, byte for byte: POST + override PUT → 201 echo, message delivered", async () => {
    const got = await admin.collect('qliksense/new_data_notification/#')
    // What butler_subs.qvs builds for PostToMQTT('qliksense/new_data_notification/sales', 'dt=20201028').
    const bytes = '{"topic":"qliksense/new_data_notification/sales", "message":"dt=20201028"}'
    const res = await http(PUBLISHER_TOKEN, bytes)
    expect(res.status, res.text).toBe(201)
    expect(res.json).toEqual({ topic: 'qliksense/new_data_notification/sales', message: 'dt=20201028' })
    await expect
      .poll(() => got)
      .toEqual([{ topic: 'qliksense/new_data_notification/sales', payload: 'dt=20201028', retain: false }])
  })

  it('the role check is on the target topic: the capability alone does not let anyone publish anywhere', async () => {
    // loadscript may call mqtt/publish, but its role grants no topic.
    const etl = await http(TOKENS.etl, { topic: 'qliksense/x', message: 'm' })
    expectButlerError(etl, 403)
    expect(etl.json.message).toContain('security.roles')
    const elsewhere = await http(PUBLISHER_TOKEN, { topic: 'plant/line1/cmd', message: 'stop' })
    expectButlerError(elsewhere, 403)
    expect((await http(PUBLISHER_TOKEN, { topic: 'qliksense/y', message: 'm' })).status).toBe(201)
    // A user whose roles do not include the capability is refused before any topic is looked at.
    const watcher = await http(TOKENS.watcher, { topic: 'qliksense/x', message: 'm' })
    expectButlerError(watcher, 403)
    expect(watcher.json.message).toContain('mqtt/publish')
  })

  it("never publishes onto sensebus' trees or the broker's $ trees, not even for admin", async () => {
    const spy = await admin.collect('#')
    const reserved = [
      'sense/request/kv/set',
      'sense/response/kv/get',
      'sense/reply/sb-1234/kv/get',
      'sense/state/kv/ns/k',
      'sense/event/reload/failed',
      'sense/bridge/state',
      'sense/request',
      '$SYS/broker/uptime',
      '$sensebus/anything',
      '$share/g/qliksense/x',
    ]
    for (const topic of reserved) {
      const env = (await admin.request('mqtt/publish', { topic, message: '{"state":"offline"}' })) as Json
      expect(env.error?.code, topic).toBe('FORBIDDEN')
      expect(env.error?.message, topic).toContain('reserved')
    }
    for (const topic of ['qliksense/+/x', 'qliksense/#', 'a\u0000b']) {
      const env = (await admin.request('mqtt/publish', { topic, message: 'm' })) as Json
      expect(env.error?.code, topic).toBe('VALIDATION_FAILED')
    }
    const res = await http(TOKENS.admin, { topic: 'sense/bridge/state', message: '{"state":"offline"}' })
    expectButlerError(res, 403)
    expect(spy.filter((m) => !m.retain && reserved.includes(m.topic))).toEqual([])
  })

  it("retained messages count against the caller's broker quota, shared with their own MQTT publishes", async () => {
    const retain = (topic: string, message = 'v') =>
      admin.request('mqtt/publish', { topic, message, retain: true }) as Promise<Json>
    // One account per user: what admin retains over MQTT itself takes a place mqtt/publish then lacks.
    await admin.mqtt.publishAsync('limits/raw', 'v', { qos: 1, retain: true })
    expect((await retain('limits/a')).status).toBe('ok')
    // Replacing a retained message takes no new place.
    expect((await retain('limits/a', 'v2')).status).toBe('ok')
    const third = await retain('limits/c')
    expect(third.error).toMatchObject({
      code: 'LIMIT_EXCEEDED',
      details: { limit: 'broker.retained.maxMessagesPerUser', max: 2 },
    })
    expect(third.error.message).toContain("for user 'admin': broker.retained.maxMessagesPerUser is 2")
    expect(await sb.app.bus.retained('limits/c')).toEqual([])
    // Not retained, it is not limited.
    expect(((await admin.request('mqtt/publish', { topic: 'limits/c', message: 'v' })) as Json).status).toBe('ok')
    // Clearing through either door frees a place.
    await admin.mqtt.publishAsync('limits/raw', '', { qos: 1, retain: true })
    expect((await retain('limits/c')).status).toBe('ok')
    // The HTTP token 'ops' is another user with its own two places; Butler's route answers 429 beyond.
    for (const topic of ['limits/d', 'limits/e'])
      expect((await http(TOKENS.admin, { topic, message: 'v', retain: 'true' })).status).toBe(201)
    expectButlerError(await http(TOKENS.admin, { topic: 'limits/f', message: 'v', retain: 'true' }), 429)
    for (const topic of ['limits/a', 'limits/c']) await retain(topic, '')
    for (const topic of ['limits/d', 'limits/e']) await http(TOKENS.admin, { topic, message: '', retain: 'true' })
  })

  it('refuses bad requests with the error they deserve', async () => {
    const tooBig = (await admin.request('mqtt/publish', { topic: 'big/x', message: 'x'.repeat(65) })) as Json
    expect(tooBig.error?.code).toBe('PAYLOAD_TOO_LARGE')
    const noMessage = await http(TOKENS.admin, '{"topic":"qliksense/x"}')
    expectButlerError(noMessage, 400)
    const qos2 = (await admin.request('mqtt/publish', { topic: 'q/x', message: 'm', qos: 2 })) as Json
    expect(qos2.error?.code).toBe('VALIDATION_FAILED')
    const generic = await call(sb.httpUrl, 'POST', '/api/v1/mqtt/publish', {
      body: { topic: 'sense/event/x', message: 'm' },
      headers: { authorization: `Bearer ${TOKENS.admin}` },
    })
    expectGenericError(generic, 403, 'FORBIDDEN')
    const got = await admin.collect('generic/#')
    const fine = await call(sb.httpUrl, 'POST', '/api/v1/mqtt/publish', {
      body: { topic: 'generic/x', message: 'via http', qos: 1 },
      headers: { authorization: `Bearer ${TOKENS.admin}` },
    })
    expect(fine.status, fine.text).toBe(200)
    expect(fine.json).toEqual({ topic: 'generic/x', qos: 1, retain: false, bytes: 8 })
    await expect.poll(() => got.map((m) => m.payload)).toEqual(['via http'])
  })
})

describe('mqtt/publish on an external broker (Mosquitto)', () => {
  it('publishes through it, and answers BROKER_UNAVAILABLE at once while it is down (Butler hung)', async () => {
    const sb = await startInMode('external (mosquitto)')
    try {
      const c = await connect(sb.mqttUrl)
      const got = await c.collect('qliksense/#')
      const ok = await call(sb.httpUrl, 'POST', '/v4/mqttpublishmessage', {
        body: '{"topic":"qliksense/ext", "message":"hello"}',
        headers: BUTLER_HEADERS,
      })
      expect(ok.status, ok.text).toBe(201)
      await expect.poll(() => got.map((m) => m.payload)).toEqual(['hello'])
      await c.end()
      await sb.mosquitto?.stop()
      // call() fails the test if no answer comes within its deadline: a hang cannot pass.
      const down = await call(sb.httpUrl, 'POST', '/v4/mqttpublishmessage', {
        body: '{"topic":"qliksense/ext", "message":"lost?"}',
        headers: BUTLER_HEADERS,
        timeoutMs: 4000,
      })
      expectButlerError(down, 503)
      expect(down.json.code).toBe('BROKER_UNAVAILABLE')
    } finally {
      await sb.stop({ clean: true })
    }
  }, 30_000)
})

describe('mqtt/publish retained limit across a restart', () => {
  it('still counts the retained topics the broker kept', async () => {
    const overrides = { 'broker.retained.maxMessagesPerUser': 1 }
    const first = await startTestApp({ overrides })
    const c1 = await connect(first.mqttUrl)
    expect(((await c1.request('mqtt/publish', { topic: 'keep/a', message: 'v', retain: true })) as Json).status).toBe(
      'ok',
    )
    await c1.end()
    await first.stop()
    const again = await startTestApp({ dataDir: first.dataDir, overrides })
    try {
      expect(await again.app.bus.retained('keep/#')).toMatchObject([{ topic: 'keep/a' }])
      const c2 = await connect(again.mqttUrl)
      const env = (await c2.request('mqtt/publish', { topic: 'keep/b', message: 'v', retain: true })) as Json
      expect(env.error?.code).toBe('LIMIT_EXCEEDED')
      await c2.end()
    } finally {
      await again.stop({ clean: true })
    }
  })
})
