import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { connect, type TestClient } from '../helpers/client.js'
import { type Mosquitto, startMosquitto } from '../helpers/mosquitto.js'
import { type RedisServer, startRedis } from '../helpers/redis.js'

/**
 * Two instances sharing requests on Mosquitto and state in Redis: whichever one answers, KV reads see
 * every write, the retained mirror ends on the stored value, and an expiry clears the mirror once.
 */
describe('KV on a shared Redis store', () => {
  let redis: RedisServer
  let mosquitto: Mosquitto
  let apps: TestApp[] = []
  let client: TestClient

  beforeAll(async () => {
    redis = await startRedis()
    mosquitto = await startMosquitto()
    const overrides = {
      'broker.sharedGroup': 'sensebus',
      'store.backend': 'redis',
      'store.redis.url': redis.url,
      'store.redis.keyPrefix': 'kv-site:',
      'store.redis.expiryPollMs': 50,
    }
    apps = [
      await startTestApp({ brokerUrl: mosquitto.url, overrides }),
      await startTestApp({ brokerUrl: mosquitto.url, overrides }),
    ]
    client = await connect(mosquitto.url)
  })
  afterAll(async () => {
    await client?.end()
    for (const a of apps) await a.stop({ clean: true })
    await mosquitto?.stop()
    await redis?.stop()
  })

  it('reads see writes made through the other instance, and listings agree', async () => {
    const sets = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        client.request('kv/set', { namespace: 'etl', key: `k${i}`, value: `v${i}` }),
      ),
    )
    expect(sets.filter((r) => r.status !== 'ok')).toEqual([])
    const gets = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        client.request<{ value: string }>('kv/get', { namespace: 'etl', key: `k${i}` }),
      ),
    )
    expect(gets.map((g) => (g.status === 'ok' ? g.data.value : g.error.code))).toEqual(
      Array.from({ length: 40 }, (_, i) => `v${i}`),
    )
    // Each instance answers listings from the store, not from what it wrote itself.
    for (let i = 0; i < 6; i++) {
      const keys = await client.request<{ keys: unknown[] }>('kv/keys', { namespace: 'etl' })
      expect(keys.status === 'ok' && keys.data.keys.length).toBe(40)
      const spaces = await client.request<{ namespaces: string[] }>('kv/namespaces', {})
      expect(spaces.status === 'ok' && spaces.data.namespaces).toEqual(['etl'])
    }
    const del = await Promise.all(
      Array.from({ length: 40 }, (_, i) => client.request('kv/delete', { namespace: 'etl', key: `k${i}` })),
    )
    expect(del.filter((r) => r.status !== 'ok')).toEqual([])
    const gone = await client.request('kv/get', { namespace: 'etl', key: 'k1' })
    expect(gone.status === 'error' && gone.error.code).toBe('NOT_FOUND')
  })

  it('concurrent writes of one key leave the mirror on the stored value; an expiry clears it once', async () => {
    const mirror = await client.collect('sense/state/kv/race/#')
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => client.request('kv/set', { namespace: 'race', key: 'one', value: `w${i}` })),
    )
    const stored = await client.request<{ value: string }>('kv/get', { namespace: 'race', key: 'one' })
    expect(stored.status).toBe('ok')
    await expect
      .poll(() => (mirror.length ? JSON.parse(mirror.at(-1)?.payload ?? '{}').value : undefined), { timeout: 5000 })
      .toBe(stored.status === 'ok' ? stored.data.value : '')

    await client.request('kv/set', { namespace: 'race', key: 'brief', value: 'x', ttl: 300 })
    const briefTopic = 'sense/state/kv/race/brief'
    await expect.poll(() => mirror.filter((m) => m.topic === briefTopic && m.payload === '').length).toBe(1)
    await new Promise((r) => setTimeout(r, 500))
    expect(mirror.filter((m) => m.topic === briefTopic && m.payload === '').length).toBe(1)
    const after = await client.request('kv/get', { namespace: 'race', key: 'brief' })
    expect(after.status === 'error' && after.error.code).toBe('NOT_FOUND')
  })
})
