import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { connect, type TestClient } from '../helpers/client.js'
import { BUS_MODES, startInMode, type ModeApp } from '../helpers/modes.js'
import { data, enc, errorCode, mirrorTopic, retainedUnder, uniqueNs } from './kv-helpers.js'

const MAX_KEYS = 3
const KV_CAPABILITIES = [
  'kv/set',
  'kv/get',
  'kv/exists',
  'kv/delete',
  'kv/delete-namespace',
  'kv/namespaces',
  'kv/keys',
] as const
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

describe.each(BUS_MODES)('kv over MQTT (%s broker)', (mode) => {
  let sb: ModeApp
  let client: TestClient

  beforeAll(async () => {
    sb = await startInMode(mode, { overrides: { 'capabilities.kv.maxKeysPerNamespace': MAX_KEYS } })
    client = await connect(sb.mqttUrl)
  })
  afterAll(async () => {
    await client?.end()
    await sb?.stop({ clean: true })
  })

  describe('operations', () => {
    it('set creates the namespace on demand and answers with the stored pair', async () => {
      const ns = uniqueNs('ondemand')
      expect(data(await client.request<{ namespaces: string[] }>('kv/namespaces')).namespaces).not.toContain(ns)
      const env = await client.request('kv/set', { namespace: ns, key: 'k1', value: 'v1', transaction: 'set-1' })
      expect(env).toEqual({
        transaction: 'set-1',
        status: 'ok',
        data: { namespace: ns, key: 'k1', value: 'v1', ttl: 0, expiresAt: null },
      })
      expect(data(await client.request<{ namespaces: string[] }>('kv/namespaces')).namespaces).toContain(ns)
    })

    it('get returns the value; NOT_FOUND for an unknown namespace or key', async () => {
      const ns = uniqueNs('get')
      await client.request('kv/set', { namespace: ns, key: 'k', value: 'hello' })
      expect(data(await client.request('kv/get', { namespace: ns, key: 'k' }))).toEqual({
        namespace: ns,
        key: 'k',
        value: 'hello',
        expiresAt: null,
      })
      const noKey = await client.request('kv/get', { namespace: ns, key: 'missing' })
      expect(noKey).toMatchObject({
        status: 'error',
        error: { code: 'NOT_FOUND', message: expect.stringContaining('missing') },
      })
      const noNs = await client.request('kv/get', { namespace: uniqueNs('nope'), key: 'k' })
      expect(noNs).toMatchObject({
        status: 'error',
        error: { code: 'NOT_FOUND', message: expect.stringContaining('Namespace') },
      })
    })

    it('set overwrites an existing key', async () => {
      const ns = uniqueNs('overwrite')
      await client.request('kv/set', { namespace: ns, key: 'k', value: 'one' })
      await client.request('kv/set', { namespace: ns, key: 'k', value: 'two' })
      expect(data(await client.request<{ value: string }>('kv/get', { namespace: ns, key: 'k' })).value).toBe('two')
      expect(data(await client.request<{ keys: unknown[] }>('kv/keys', { namespace: ns })).keys).toHaveLength(1)
    })

    it('exists says true with the value, false for a missing key, NOT_FOUND for a missing namespace', async () => {
      const ns = uniqueNs('exists')
      await client.request('kv/set', { namespace: ns, key: 'here', value: 'x' })
      expect(data(await client.request('kv/exists', { namespace: ns, key: 'here' }))).toEqual({
        namespace: ns,
        key: 'here',
        exists: true,
        value: 'x',
        expiresAt: null,
      })
      expect(data(await client.request('kv/exists', { namespace: ns, key: 'gone' }))).toEqual({
        namespace: ns,
        key: 'gone',
        exists: false,
      })
      expect(errorCode(await client.request('kv/exists', { namespace: uniqueNs('nope'), key: 'here' }))).toBe(
        'NOT_FOUND',
      )
    })

    it('keys lists the keys of a namespace in order; NOT_FOUND for an unknown namespace', async () => {
      const ns = uniqueNs('keys')
      for (const key of ['b', 'a', 'c'])
        await client.request('kv/set', { namespace: ns, key, value: key.toUpperCase() })
      expect(data(await client.request('kv/keys', { namespace: ns }))).toEqual({
        namespace: ns,
        keys: [
          { key: 'a', expiresAt: null },
          { key: 'b', expiresAt: null },
          { key: 'c', expiresAt: null },
        ],
      })
      expect(errorCode(await client.request('kv/keys', { namespace: uniqueNs('nope') }))).toBe('NOT_FOUND')
    })

    it('delete removes a key, keeps the namespace, and answers NOT_FOUND the second time', async () => {
      const ns = uniqueNs('delete')
      await client.request('kv/set', { namespace: ns, key: 'k', value: 'v' })
      await client.request('kv/set', { namespace: ns, key: 'other', value: 'v' })
      expect(data(await client.request('kv/delete', { namespace: ns, key: 'k' }))).toEqual({
        namespace: ns,
        key: 'k',
        deleted: true,
      })
      expect(errorCode(await client.request('kv/get', { namespace: ns, key: 'k' }))).toBe('NOT_FOUND')
      expect(errorCode(await client.request('kv/delete', { namespace: ns, key: 'k' }))).toBe('NOT_FOUND')
      expect(errorCode(await client.request('kv/delete', { namespace: uniqueNs('nope'), key: 'k' }))).toBe('NOT_FOUND')
      expect(
        data(await client.request<{ keys: Array<{ key: string }> }>('kv/keys', { namespace: ns })).keys.map(
          (k) => k.key,
        ),
      ).toEqual(['other'])
      // Deleting the last key leaves an empty namespace, as in Butler.
      await client.request('kv/delete', { namespace: ns, key: 'other' })
      expect(data(await client.request('kv/keys', { namespace: ns }))).toEqual({ namespace: ns, keys: [] })
      expect(data(await client.request<{ namespaces: string[] }>('kv/namespaces')).namespaces).toContain(ns)
    })

    it('delete-namespace removes every key and the namespace itself', async () => {
      const ns = uniqueNs('delns')
      for (const key of ['a', 'b', 'c']) await client.request('kv/set', { namespace: ns, key, value: '1' })
      expect(data(await client.request('kv/delete-namespace', { namespace: ns }))).toEqual({
        namespace: ns,
        deletedKeys: 3,
      })
      expect(data(await client.request<{ namespaces: string[] }>('kv/namespaces')).namespaces).not.toContain(ns)
      expect(errorCode(await client.request('kv/keys', { namespace: ns }))).toBe('NOT_FOUND')
      expect(errorCode(await client.request('kv/get', { namespace: ns, key: 'a' }))).toBe('NOT_FOUND')
      expect(errorCode(await client.request('kv/delete-namespace', { namespace: ns }))).toBe('NOT_FOUND')
      // The namespace can be created again from scratch.
      await client.request('kv/set', { namespace: ns, key: 'fresh', value: '1' })
      expect(
        data(await client.request<{ keys: Array<{ key: string }> }>('kv/keys', { namespace: ns })).keys.map(
          (k) => k.key,
        ),
      ).toEqual(['fresh'])
    })

    it('namespaces lists every namespace, sorted', async () => {
      const prefix = uniqueNs('list')
      for (const n of ['z', 'a', 'm'])
        await client.request('kv/set', { namespace: `${prefix}-${n}`, key: 'k', value: 'v' })
      const all = data(await client.request<{ namespaces: string[] }>('kv/namespaces')).namespaces
      expect(all.filter((n) => n.startsWith(prefix))).toEqual([`${prefix}-a`, `${prefix}-m`, `${prefix}-z`])
      expect([...all].sort()).toEqual(all)
    })

    it('stores numbers and booleans as strings, and keeps an empty string', async () => {
      const ns = uniqueNs('coerce')
      const cases: Array<[unknown, string]> = [
        [42, '42'],
        [1.5, '1.5'],
        [true, 'true'],
      ]
      for (const [i, [value, expected]] of cases.entries()) {
        const set = data(await client.request<{ value: unknown }>('kv/set', { namespace: ns, key: `k${i}`, value }))
        expect(set.value).toBe(expected)
        expect(data(await client.request<{ value: unknown }>('kv/get', { namespace: ns, key: `k${i}` })).value).toBe(
          expected,
        )
      }
      const ns2 = uniqueNs('empty')
      await client.request('kv/set', { namespace: ns2, key: 'blank', value: '' })
      expect(data(await client.request('kv/get', { namespace: ns2, key: 'blank' }))).toMatchObject({ value: '' })
    })

    it('accepts ttl as a digit string and treats ttl 0 as no expiry', async () => {
      const ns = uniqueNs('ttlstr')
      const before = Date.now()
      const set = data(
        await client.request<{ ttl: number; expiresAt: string }>('kv/set', {
          namespace: ns,
          key: 'k',
          value: 'v',
          ttl: '60000',
        }),
      )
      expect(set.ttl).toBe(60000)
      expect(set.expiresAt).toMatch(ISO)
      const expires = Date.parse(set.expiresAt)
      expect(expires).toBeGreaterThanOrEqual(before + 60000)
      expect(expires).toBeLessThanOrEqual(Date.now() + 60000)
      const zero = data(await client.request('kv/set', { namespace: ns, key: 'z', value: 'v', ttl: 0 }))
      expect(zero).toMatchObject({ ttl: 0, expiresAt: null })
    })

    it('keeps namespaces apart: the same key in two namespaces holds two values', async () => {
      const a = uniqueNs('iso-a')
      const b = uniqueNs('iso-b')
      await client.request('kv/set', { namespace: a, key: 'k', value: 'A' })
      await client.request('kv/set', { namespace: b, key: 'k', value: 'B' })
      expect(data(await client.request<{ value: string }>('kv/get', { namespace: a, key: 'k' })).value).toBe('A')
      expect(data(await client.request<{ value: string }>('kv/get', { namespace: b, key: 'k' })).value).toBe('B')
      await client.request('kv/delete-namespace', { namespace: a })
      expect(data(await client.request<{ value: string }>('kv/get', { namespace: b, key: 'k' })).value).toBe('B')
    })

    it('an absurdly large ttl is refused or stored, never an INTERNAL error that breaks the key', async () => {
      // Number.MAX_SAFE_INTEGER ms lies beyond the largest Date (8.64e15 ms after 1970).
      const ns = uniqueNs('hugettl')
      for (const ttl of [Number.MAX_SAFE_INTEGER, String(Number.MAX_SAFE_INTEGER), '99999999999999999999']) {
        const env = await client.request('kv/set', { namespace: ns, key: 'k', value: 'v', ttl })
        expect(env.status === 'ok' || errorCode(env) === 'VALIDATION_FAILED', JSON.stringify(env)).toBe(true)
      }
      const get = await client.request('kv/get', { namespace: ns, key: 'k' })
      expect(get.status === 'ok' || errorCode(get) === 'NOT_FOUND', JSON.stringify(get)).toBe(true)
      const keys = await client.request('kv/keys', { namespace: ns })
      expect(keys.status === 'ok' || errorCode(keys) === 'NOT_FOUND', JSON.stringify(keys)).toBe(true)
    })
  })

  describe('TTL', () => {
    it(
      'an expired key vanishes from get, exists and keys, and its retained mirror is cleared without any ' + 'read',
      async () => {
        const ns = uniqueNs('ttl')
        const watcher = await connect(sb.mqttUrl)
        try {
          const seen = await watcher.collect(mirrorTopic(ns, 'short'))
          const set = data(
            await client.request<{ ttl: number; expiresAt: string }>('kv/set', {
              namespace: ns,
              key: 'short',
              value: 'v',
              ttl: 500,
            }),
          )
          await client.request('kv/set', { namespace: ns, key: 'long', value: 'v' })
          expect(set.ttl).toBe(500)
          await expect.poll(() => seen.length).toBe(1)
          expect(JSON.parse(seen[0]!.payload)).toMatchObject({ value: 'v', expiresAt: set.expiresAt })
          // No read happens here: only the active expiry can clear the mirror.
          await expect
            .poll(() => seen.map((m) => m.payload), { timeout: 3000, interval: 50 })
            .toEqual([seen[0]!.payload, ''])
          expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(set.expiresAt))
        } finally {
          await watcher.end()
        }
        expect(errorCode(await client.request('kv/get', { namespace: ns, key: 'short' }))).toBe('NOT_FOUND')
        expect(data(await client.request('kv/exists', { namespace: ns, key: 'short' }))).toMatchObject({
          exists: false,
        })
        expect(
          data(await client.request<{ keys: Array<{ key: string }> }>('kv/keys', { namespace: ns })).keys.map(
            (k) => k.key,
          ),
        ).toEqual(['long'])
        expect((await retainedUnder(sb.mqttUrl, `sense/state/kv/${enc(ns)}/#`)).map((m) => m.topic)).toEqual([
          mirrorTopic(ns, 'long'),
        ])
      },
    )

    it('a namespace whose keys all expired still exists (as in Butler), empty', async () => {
      const ns = uniqueNs('ttl-empty')
      await client.request('kv/set', { namespace: ns, key: 'k', value: 'v', ttl: 300 })
      await expect
        .poll(async () => errorCode(await client.request('kv/get', { namespace: ns, key: 'k' })), {
          timeout: 3000,
          interval: 50,
        })
        .toBe('NOT_FOUND')
      expect(data(await client.request('kv/keys', { namespace: ns }))).toEqual({ namespace: ns, keys: [] })
      expect(data(await client.request<{ namespaces: string[] }>('kv/namespaces')).namespaces).toContain(ns)
    })

    it('an update resets the TTL', async () => {
      const ns = uniqueNs('ttl-reset')
      const first = data(
        await client.request<{ expiresAt: string }>('kv/set', { namespace: ns, key: 'k', value: 'one', ttl: 600 }),
      )
      await new Promise((r) => setTimeout(r, 350))
      const second = data(
        await client.request<{ expiresAt: string }>('kv/set', { namespace: ns, key: 'k', value: 'two', ttl: 600 }),
      )
      expect(Date.parse(second.expiresAt)).toBeGreaterThan(Date.parse(first.expiresAt))
      // Past the first deadline, the key lives on because the update moved it.
      const waitUntil = Date.parse(first.expiresAt) + 100 - Date.now()
      await new Promise((r) => setTimeout(r, Math.max(waitUntil, 0)))
      expect(Date.now()).toBeLessThan(Date.parse(second.expiresAt))
      expect(data(await client.request<{ value: string }>('kv/get', { namespace: ns, key: 'k' })).value).toBe('two')
      await expect
        .poll(async () => errorCode(await client.request('kv/get', { namespace: ns, key: 'k' })), {
          timeout: 3000,
          interval: 50,
        })
        .toBe('NOT_FOUND')
    })

    it('an update without ttl makes the key permanent', async () => {
      const ns = uniqueNs('ttl-drop')
      await client.request('kv/set', { namespace: ns, key: 'k', value: 'one', ttl: 300 })
      expect(data(await client.request('kv/set', { namespace: ns, key: 'k', value: 'two' }))).toMatchObject({
        ttl: 0,
        expiresAt: null,
      })
      await new Promise((r) => setTimeout(r, 500))
      expect(data(await client.request('kv/get', { namespace: ns, key: 'k' }))).toMatchObject({
        value: 'two',
        expiresAt: null,
      })
    })

    it('keys with different deadlines expire in order, each at its own time', async () => {
      const ns = uniqueNs('ttl-order')
      // Set the later one first, so the store has to re-arm for an earlier deadline.
      await client.request('kv/set', { namespace: ns, key: 'late', value: 'v', ttl: 800 })
      await client.request('kv/set', { namespace: ns, key: 'early', value: 'v', ttl: 300 })
      const keys = async () =>
        data(await client.request<{ keys: Array<{ key: string }> }>('kv/keys', { namespace: ns })).keys.map(
          (k) => k.key,
        )
      await expect.poll(keys, { timeout: 3000, interval: 25 }).toEqual(['late'])
      await expect.poll(keys, { timeout: 3000, interval: 25 }).toEqual([])
    })
  })

  describe('maxKeysPerNamespace', () => {
    it('refuses a new key beyond the limit with a clear error; updating an existing key still works', async () => {
      const ns = uniqueNs('limit')
      for (let i = 0; i < MAX_KEYS; i++)
        expect((await client.request('kv/set', { namespace: ns, key: `k${i}`, value: 'v' })).status).toBe('ok')
      const refused = await client.request('kv/set', { namespace: ns, key: 'one-too-many', value: 'v' })
      expect(refused).toMatchObject({
        status: 'error',
        error: { code: 'LIMIT_EXCEEDED', message: expect.stringContaining(String(MAX_KEYS)) },
      })
      expect(errorCode(await client.request('kv/get', { namespace: ns, key: 'one-too-many' }))).toBe('NOT_FOUND')
      expect((await client.request('kv/set', { namespace: ns, key: 'k0', value: 'updated' })).status).toBe('ok')
      expect(data(await client.request<{ value: string }>('kv/get', { namespace: ns, key: 'k0' })).value).toBe(
        'updated',
      )
      // Other namespaces have their own budget.
      expect(
        (await client.request('kv/set', { namespace: uniqueNs('limit-other'), key: 'k', value: 'v' })).status,
      ).toBe('ok')
      // Room frees up after a delete.
      await client.request('kv/delete', { namespace: ns, key: 'k1' })
      expect((await client.request('kv/set', { namespace: ns, key: 'one-too-many', value: 'v' })).status).toBe('ok')
    })

    it('holds under concurrent sets: exactly the limit succeeds', async () => {
      const ns = uniqueNs('limit-race')
      const all = await Promise.all(
        Array.from({ length: 10 }, (_, i) => client.request('kv/set', { namespace: ns, key: `k${i}`, value: 'v' })),
      )
      expect(all.filter((e) => e.status === 'ok')).toHaveLength(MAX_KEYS)
      expect(all.filter((e) => errorCode(e) === 'LIMIT_EXCEEDED')).toHaveLength(10 - MAX_KEYS)
      expect(data(await client.request<{ keys: unknown[] }>('kv/keys', { namespace: ns })).keys).toHaveLength(MAX_KEYS)
    })

    it('expired keys give their slot back', async () => {
      const ns = uniqueNs('limit-ttl')
      for (let i = 0; i < MAX_KEYS; i++)
        await client.request('kv/set', { namespace: ns, key: `k${i}`, value: 'v', ttl: 300 })
      expect(errorCode(await client.request('kv/set', { namespace: ns, key: 'new', value: 'v' }))).toBe(
        'LIMIT_EXCEEDED',
      )
      await expect
        .poll(async () => (await client.request('kv/set', { namespace: ns, key: 'new', value: 'v' })).status, {
          timeout: 3000,
          interval: 50,
        })
        .toBe('ok')
    })
  })

  describe('retained mirror', () => {
    it('mirrors a set as a retained JSON message with the documented shape', async () => {
      const ns = uniqueNs('mirror')
      const before = Date.now()
      await client.request('kv/set', { namespace: ns, key: 'k', value: 'v1' })
      const retained = await retainedUnder(sb.mqttUrl, mirrorTopic(ns, 'k'))
      expect(retained).toHaveLength(1)
      const payload = JSON.parse(retained[0]!.payload)
      expect(payload).toEqual({
        namespace: ns,
        key: 'k',
        value: 'v1',
        expiresAt: null,
        updatedAt: expect.stringMatching(ISO),
      })
      expect(Date.parse(payload.updatedAt)).toBeGreaterThanOrEqual(before - 5)
      // An update replaces the retained state; a TTL shows up as expiresAt.
      const set = data(
        await client.request<{ expiresAt: string }>('kv/set', { namespace: ns, key: 'k', value: 'v2', ttl: 60000 }),
      )
      const after = await retainedUnder(sb.mqttUrl, mirrorTopic(ns, 'k'))
      expect(after.map((m) => JSON.parse(m.payload))).toEqual([
        { namespace: ns, key: 'k', value: 'v2', expiresAt: set.expiresAt, updatedAt: expect.stringMatching(ISO) },
      ])
    })

    it('after a burst of concurrent sets of one key, the retained state equals what get returns', async () => {
      const ns = uniqueNs('mirror-burst')
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => client.request('kv/set', { namespace: ns, key: 'k', value: `v${i}` })),
      )
      expect(results.every((r) => r.status === 'ok')).toBe(true)
      const stored = data(await client.request<{ value: string }>('kv/get', { namespace: ns, key: 'k' })).value
      expect((await retainedUnder(sb.mqttUrl, mirrorTopic(ns, 'k'))).map((m) => JSON.parse(m.payload).value)).toEqual([
        stored,
      ])
    })

    it('the mirror is in place by the time the set is acknowledged', async () => {
      const ns = uniqueNs('mirror-order')
      const watcher = await connect(sb.mqttUrl)
      try {
        const seen = await watcher.collect(`sense/state/kv/${enc(ns)}/#`)
        await client.request('kv/set', { namespace: ns, key: 'k', value: 'v' })
        await expect.poll(() => seen.length).toBe(1)
        expect(seen[0]).toMatchObject({ topic: mirrorTopic(ns, 'k') })
      } finally {
        await watcher.end()
      }
    })

    it('clears the retained message on delete', async () => {
      const ns = uniqueNs('mirror-del')
      await client.request('kv/set', { namespace: ns, key: 'gone', value: 'v' })
      await client.request('kv/set', { namespace: ns, key: 'stays', value: 'v' })
      const watcher = await connect(sb.mqttUrl)
      try {
        const seen = await watcher.collect(mirrorTopic(ns, 'gone'))
        await expect.poll(() => seen.length).toBe(1)
        await client.request('kv/delete', { namespace: ns, key: 'gone' })
        await expect.poll(() => seen.map((m) => m.payload)).toEqual([seen[0]!.payload, ''])
      } finally {
        await watcher.end()
      }
      expect((await retainedUnder(sb.mqttUrl, `sense/state/kv/${enc(ns)}/#`)).map((m) => m.topic)).toEqual([
        mirrorTopic(ns, 'stays'),
      ])
    })

    it(
      'clears every retained message of a namespace on delete-namespace, and nothing of other ' + 'namespaces',
      async () => {
        const ns = uniqueNs('mirror-delns')
        const other = uniqueNs('mirror-keep')
        for (const key of ['a', 'b', 'c']) await client.request('kv/set', { namespace: ns, key, value: 'v' })
        await client.request('kv/set', { namespace: other, key: 'a', value: 'v' })
        expect(await retainedUnder(sb.mqttUrl, `sense/state/kv/${enc(ns)}/#`)).toHaveLength(3)
        await client.request('kv/delete-namespace', { namespace: ns })
        expect(await retainedUnder(sb.mqttUrl, `sense/state/kv/${enc(ns)}/#`)).toEqual([])
        expect(await retainedUnder(sb.mqttUrl, `sense/state/kv/${enc(other)}/#`)).toHaveLength(1)
      },
    )

    it('encodes namespaces and keys with /, +, #, spaces and unicode into single topic levels', async () => {
      const nsA = `tricky/${uniqueNs('ns')} +#`
      const nsB = `ünï ✓ ${uniqueNs('ns')}`
      const pairs: Array<[string, string, string]> = [
        [nsA, 'a/b', `sense/state/kv/${enc(nsA)}/a%2Fb`],
        [nsA, '+plus#hash', `sense/state/kv/${enc(nsA)}/%2Bplus%23hash`],
        [nsA, 'with space', `sense/state/kv/${enc(nsA)}/with%20space`],
        [nsB, 'ключ✓', `sense/state/kv/${enc(nsB)}/%D0%BA%D0%BB%D1%8E%D1%87%E2%9C%93`],
        [nsB, "(it's)!*", `sense/state/kv/${enc(nsB)}/%28it%27s%29%21%2A`],
        [nsB, '%41 not decoded', `sense/state/kv/${enc(nsB)}/%2541%20not%20decoded`],
      ]
      expect(enc(nsA)).not.toMatch(/[/+#]/)
      for (const [ns, key] of pairs)
        expect((await client.request('kv/set', { namespace: ns, key, value: `${ns}|${key}` })).status).toBe('ok')
      const all = [
        ...(await retainedUnder(sb.mqttUrl, `sense/state/kv/${enc(nsA)}/#`)),
        ...(await retainedUnder(sb.mqttUrl, `sense/state/kv/${enc(nsB)}/#`)),
      ]
      expect(all.map((m) => m.topic).sort()).toEqual(pairs.map(([, , topic]) => topic).sort())
      for (const m of all) {
        // Exactly four levels: sense/state/kv/<ns>/<key>; the payload carries the raw names.
        expect(m.topic.split('/')).toHaveLength(5)
        const p = JSON.parse(m.payload) as { namespace: string; key: string; value: string }
        expect(p.value).toBe(`${p.namespace}|${p.key}`)
        expect(m.topic).toBe(mirrorTopic(p.namespace, p.key))
      }
      // Deleting a tricky key clears exactly its topic.
      await client.request('kv/delete', { namespace: nsA, key: 'a/b' })
      expect((await retainedUnder(sb.mqttUrl, `sense/state/kv/${enc(nsA)}/#`)).map((m) => m.topic).sort()).toEqual(
        pairs
          .filter(([ns, key]) => ns === nsA && key !== 'a/b')
          .map(([, , t]) => t)
          .sort(),
      )
    })
  })

  describe('malformed input gets an error envelope, never silence', () => {
    const valid: Record<(typeof KV_CAPABILITIES)[number], Record<string, unknown>> = {
      'kv/set': { namespace: 'm', key: 'k', value: 'v' },
      'kv/get': { namespace: 'm', key: 'k' },
      'kv/exists': { namespace: 'm', key: 'k' },
      'kv/delete': { namespace: 'm', key: 'k' },
      'kv/delete-namespace': { namespace: 'm' },
      'kv/namespaces': {},
      'kv/keys': { namespace: 'm' },
    }

    it.each(KV_CAPABILITIES)('%s: payloads that are not JSON → BAD_JSON', async (cap) => {
      for (const payload of ['not json', '{"namespace":', '\u0000\u00ff', Buffer.from([0xff, 0xfe, 0x00])]) {
        expect(await client.raw(cap, payload)).toMatchObject({
          status: 'error',
          error: { code: 'BAD_JSON', message: expect.any(String) },
        })
      }
    })

    it.each(KV_CAPABILITIES)('%s: JSON that is not an object → VALIDATION_FAILED', async (cap) => {
      for (const payload of ['[]', '"text"', '42', 'null', 'true']) {
        expect(await client.raw(cap, payload), payload).toMatchObject({
          status: 'error',
          error: { code: 'VALIDATION_FAILED' },
        })
      }
    })

    it.each(KV_CAPABILITIES)('%s: an unknown extra field → VALIDATION_FAILED naming it', async (cap) => {
      const env = await client.request(cap, { ...valid[cap], surprise: 1 })
      expect(env).toMatchObject({ status: 'error', error: { code: 'VALIDATION_FAILED' } })
      if (env.status === 'error')
        expect(env.error.details).toContainEqual({ path: '/surprise', message: expect.any(String) })
    })

    const required = KV_CAPABILITIES.filter((c) => Object.keys(valid[c]).length > 0)
    it.each(required)('%s: each missing required field → VALIDATION_FAILED naming it', async (cap) => {
      for (const field of Object.keys(valid[cap])) {
        const { [field]: _drop, ...rest } = valid[cap]
        const env = await client.request(cap, rest)
        expect(env, field).toMatchObject({ status: 'error', error: { code: 'VALIDATION_FAILED' } })
        if (env.status === 'error')
          expect(env.error.details).toContainEqual({ path: `/${field}`, message: expect.any(String) })
      }
    })

    it.each(required)('%s: wrong types and empty names → VALIDATION_FAILED', async (cap) => {
      const bad: Record<string, unknown[]> = {
        namespace: [42, null, '', ['a'], { a: 1 }, 'nul\u0000inside'],
        key: [42, null, '', ['a'], { a: 1 }],
        value: [null, ['a'], { a: 1 }],
      }
      for (const field of Object.keys(valid[cap])) {
        for (const v of bad[field] ?? []) {
          const env = await client.request(cap, { ...valid[cap], [field]: v })
          expect(env, `${field}=${JSON.stringify(v)}`).toMatchObject({
            status: 'error',
            error: { code: 'VALIDATION_FAILED' },
          })
        }
      }
    })

    it(
      'kv/set: a ttl that is negative, fractional, empty or not a number → VALIDATION_FAILED, and nothing is ' +
        'stored',
      async () => {
        const ns = uniqueNs('badttl')
        for (const ttl of [-1, 1.5, '', ' 60', '60000ms', '-5', '1e3', null, true, {}]) {
          const env = await client.request('kv/set', { namespace: ns, key: 'k', value: 'v', ttl })
          expect(env, `ttl=${JSON.stringify(ttl)}`).toMatchObject({
            status: 'error',
            error: { code: 'VALIDATION_FAILED' },
          })
          if (env.status === 'error')
            expect(env.error.details).toContainEqual(expect.objectContaining({ path: '/ttl' }))
        }
        expect(errorCode(await client.request('kv/keys', { namespace: ns }))).toBe('NOT_FOUND')
      },
    )

    it('kv/set: names beyond the length limits → VALIDATION_FAILED', async () => {
      expect(errorCode(await client.request('kv/set', { namespace: 'n'.repeat(257), key: 'k', value: 'v' }))).toBe(
        'VALIDATION_FAILED',
      )
      expect(
        errorCode(await client.request('kv/set', { namespace: uniqueNs('long'), key: 'k'.repeat(1025), value: 'v' })),
      ).toBe('VALIDATION_FAILED')
      expect(
        (await client.request('kv/set', { namespace: uniqueNs('long'), key: 'k'.repeat(1024), value: 'v' })).status,
      ).toBe('ok')
    })

    it(
      'kv/set: lone UTF-16 surrogates in a name or value → VALIDATION_FAILED, and nothing is ' + 'half-stored',
      async () => {
        // Valid JSON ("\ud800" escapes) but not valid Unicode: no UTF-8 form for LevelDB, no topic for the mirror.
        const ns = uniqueNs('surrogate')
        const cases: Array<[string, Record<string, unknown>]> = [
          ['/key', { namespace: ns, key: 'a\ud800', value: 'v' }],
          ['/namespace', { namespace: `${ns}\udc00`, key: 'k', value: 'v' }],
          ['/value', { namespace: ns, key: 'k', value: 'x\ud800y' }],
        ]
        for (const [path, body] of cases) {
          const env = await client.request('kv/set', body)
          expect(env, path).toMatchObject({ status: 'error', error: { code: 'VALIDATION_FAILED' } })
          if (env.status === 'error') expect(env.error.details).toContainEqual(expect.objectContaining({ path }))
        }
        expect(errorCode(await client.request('kv/keys', { namespace: ns }))).toBe('NOT_FOUND')
        // A proper surrogate pair (an emoji) is fine.
        expect(data(await client.request('kv/set', { namespace: ns, key: '😀', value: '😀' }))).toMatchObject({
          key: '😀',
          value: '😀',
        })
        expect(
          (await retainedUnder(sb.mqttUrl, mirrorTopic(ns, '😀'))).map((m) => JSON.parse(m.payload).value),
        ).toEqual(['😀'])
      },
    )

    it('the transaction of a malformed request is still echoed', async () => {
      const env = await client.request('kv/get', { transaction: 'bad-1', namespace: 7 })
      expect(env).toMatchObject({ transaction: 'bad-1', status: 'error', error: { code: 'VALIDATION_FAILED' } })
    })
  })
})

describe('kv with the mirror switched off', () => {
  let sb: TestApp
  beforeAll(async () => {
    sb = await startTestApp({ overrides: { 'capabilities.kv.mirror': false } })
  })
  afterAll(async () => {
    await sb?.stop({ clean: true })
  })

  it('stores and reads as usual but publishes no retained state', async () => {
    const client = await connect(sb.mqttUrl)
    try {
      const ns = uniqueNs('nomirror')
      const seen = await client.collect('sense/state/kv/#')
      await client.request('kv/set', { namespace: ns, key: 'k', value: 'v' })
      expect(data(await client.request('kv/get', { namespace: ns, key: 'k' }))).toMatchObject({ value: 'v' })
      await client.request('kv/delete', { namespace: ns, key: 'k' })
      expect(seen).toEqual([])
      expect(await retainedUnder(sb.mqttUrl, 'sense/state/kv/#')).toEqual([])
    } finally {
      await client.end()
    }
  })
})
