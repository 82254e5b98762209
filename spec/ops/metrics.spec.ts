import { setTimeout as sleep } from 'node:timers/promises'
import { Type } from '@sinclair/typebox'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { modules } from '../../src/capabilities/index.js'
import { defineCapability, defineModule } from '../../src/core/capability.js'
import { closed, section } from '../../src/core/schema.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { connect, type TestClient } from '../helpers/client.js'
import mqtt from 'mqtt'
import { PASSWORDS, securityOverrides, TOKENS } from '../security/harness.js'

/** The value of one sample line of the exposition, or undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

/** A capability that takes its time, so a burst of calls meets the in-flight limit. */
const slowModule = defineModule({
  area: 'slow',
  summary: 'test-only',
  configSchema: section({}),
  capabilities: [
    defineCapability({
      name: 'slow/wait',
      summary: 'waits',
      request: closed({ ms: Type.Integer({ minimum: 0 }) }),
      result: Type.Object({}),
      roles: ['loadscript'],
      async handle(req) {
        await sleep(req.ms)
        return {}
      },
    }),
  ],
})

describe('GET /metrics', () => {
  let sb: TestApp
  let client: TestClient
  beforeAll(async () => {
    sb = await startTestApp({ modules: [...modules, slowModule], overrides: { 'bus.maxInFlight': 1 } })
    client = await connect(sb.mqttUrl)
  })
  afterAll(async () => {
    await client?.end()
    await sb?.stop({ clean: true })
  })

  const scrape = async () => {
    const res = await fetch(`${sb.httpUrl}/metrics`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    return res.text()
  }

  it('counts requests by capability and status, with latency, whatever the door', async () => {
    await client.request('kv/set', { namespace: 'm', key: 'a', value: 'x' })
    await client.request('kv/set', { namespace: 'm', key: 'b', value: 'yy' })
    await client.request('kv/get', { namespace: 'm', key: 'nope' })
    await fetch(`${sb.httpUrl}/api/v1/util/ping`, { method: 'POST' })
    await client.request('no/such-thing', {})
    const text = await scrape()
    expect(sample(text, 'sensebus_requests_total{capability="kv/set",status="ok"}')).toBe(2)
    expect(sample(text, 'sensebus_requests_total{capability="kv/get",status="NOT_FOUND"}')).toBe(1)
    expect(sample(text, 'sensebus_requests_total{capability="util/ping",status="ok"}')).toBe(1)
    // A name a caller made up is not a series of its own.
    expect(sample(text, 'sensebus_requests_total{capability="(unknown)",status="NOT_FOUND"}')).toBe(1)
    expect(text).not.toContain('no/such-thing')
    expect(sample(text, 'sensebus_request_duration_seconds_count{capability="kv/set"}')).toBe(2)
    // Nothing dropped: the test apps log to a stream that keeps up (the drop itself: spec/ops/audit-line).
    expect(sample(text, 'sensebus_log_lines_dropped')).toBe(0)
    expect(sample(text, 'sensebus_request_duration_seconds_bucket{le="+Inf",capability="kv/set"}')).toBe(2)
  })

  it('reports KV keys and bytes, connections and in-flight requests as gauges', async () => {
    const text = await scrape()
    expect(sample(text, 'sensebus_kv_keys')).toBe(2)
    // namespace + key + value bytes of the two entries: 'm'+'a'+'x' and 'm'+'b'+'yy'
    expect(sample(text, 'sensebus_kv_bytes')).toBeGreaterThanOrEqual(7)
    expect(sample(text, 'sensebus_mqtt_connections')).toBeGreaterThanOrEqual(1)
    expect(sample(text, 'sensebus_requests_in_flight')).toBe(0)
    expect(sample(text, 'sensebus_broker_connected')).toBe(1)
    expect(sample(text, 'sensebus_http_connections')).toBeGreaterThanOrEqual(1)
    expect(sample(text, 'sensebus_outbox_items{state="pending"}')).toBe(0)
    expect(text).toContain('sensebus_process_resident_memory_bytes')
  })

  it('counts BUSY answers', async () => {
    // bus.maxInFlight is 1: while one call waits, the others of the burst are refused.
    const answers = await Promise.all(Array.from({ length: 5 }, () => client.request('slow/wait', { ms: 300 })))
    const busy = answers.filter((a) => a.status === 'error' && a.error.code === 'BUSY').length
    expect(busy).toBeGreaterThan(0)
    const text = await scrape()
    expect(sample(text, 'sensebus_busy_total') ?? 0).toBe(busy)
    expect(sample(text, 'sensebus_requests_total{capability="slow/wait",status="BUSY"}') ?? 0).toBe(busy)
  })
})

describe('/metrics and /health settings', () => {
  let off: TestApp
  let guarded: TestApp
  beforeAll(async () => {
    off = await startTestApp({ overrides: { 'http.metrics.enabled': false, 'http.health.enabled': false } })
    guarded = await startTestApp({
      overrides: await securityOverrides({ 'http.metrics.auth': 'token', 'http.health.auth': 'token' }),
    })
  })
  afterAll(async () => {
    await off?.stop({ clean: true })
    await guarded?.stop({ clean: true })
  })

  it('answers 404 when switched off', async () => {
    expect((await fetch(`${off.httpUrl}/metrics`)).status).toBe(404)
    expect((await fetch(`${off.httpUrl}/health`)).status).toBe(404)
  })

  it('needs an API token when auth is token, and counts the refusals', async () => {
    const anonymous = await fetch(`${guarded.httpUrl}/metrics`)
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/)
    expect(await anonymous.json()).toMatchObject({ code: 'UNAUTHORIZED' })
    const wrong = await fetch(`${guarded.httpUrl}/health`, { headers: { authorization: 'Bearer nope' } })
    expect(wrong.status).toBe(401)

    const withToken = await fetch(`${guarded.httpUrl}/metrics`, {
      headers: { authorization: `Bearer ${TOKENS.watcher}` },
    })
    expect(withToken.status).toBe(200)
    const text = await withToken.text()
    expect(sample(text, 'sensebus_forbidden_total{via="http"}')).toBe(2)
    const health = await fetch(`${guarded.httpUrl}/health`, { headers: { authorization: `Bearer ${TOKENS.etl}` } })
    expect(health.status).toBe(200)
  })
})

describe('sensebus_forbidden_total{via="mqtt"}: publishes the broker ACL refused', () => {
  let sb: TestApp
  beforeAll(async () => {
    sb = await startTestApp({ overrides: await securityOverrides() })
  })
  afterAll(() => sb?.stop({ clean: true }))

  const denied = async () => {
    const res = await fetch(`${sb.httpUrl}/metrics`, { headers: { authorization: `Bearer ${TOKENS.watcher}` } })
    return sample(await res.text(), 'sensebus_forbidden_total{via="mqtt"}') ?? 0
  }
  const login = (username: 'etl' | 'reader') =>
    mqtt.connectAsync(sb.mqttUrl, { username, password: PASSWORDS[username], reconnectPeriod: 0 })

  it('counts a dropped publish and one that closed the connection, not an allowed one', async () => {
    expect(await denied()).toBe(0)
    const reader = await login('reader')
    await reader.publishAsync('apps/sense/status', 'allowed', { qos: 1 })
    expect(await denied()).toBe(0)
    await reader.endAsync()

    const etl = await login('etl')
    // Outside loadscript's grants: acknowledged and dropped, the connection stays.
    await etl.publishAsync('reports/daily', 'not allowed', { qos: 1 })
    expect(await denied()).toBe(1)
    expect(etl.connected).toBe(true)
    // sensebus' own tree: the broker closes the connection ([MQTT-3.3.5-2]).
    const closed = new Promise<void>((r) => etl.once('close', () => r()))
    etl.publish('sense/event/reload/failed', '{}', { qos: 0 })
    await closed
    await expect.poll(denied).toBe(2)
    await etl.endAsync(true)
  })
})
