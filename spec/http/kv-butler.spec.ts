import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { connect, type TestClient } from '../helpers/client.js'
import { call, expectButlerError, type HttpAnswer } from './http-helpers.js'

const MAX_KEYS = 3
const ns = (label: string) => `${label}-${randomUUID().slice(0, 8)}`
const p = encodeURIComponent

describe("Butler's /v4 key-value routes", () => {
  let sb: TestApp
  let client: TestClient
  const http = (method: string, path: string, opts?: Parameters<typeof call>[3]): Promise<HttpAnswer> =>
    call(sb.httpUrl, method, path, opts)
  /** What AddKeyValue in butler_subs.qvs sends. */
  const post = (namespace: string, body: unknown) =>
    http('POST', `/v4/keyvalues/${p(namespace)}`, {
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    })

  beforeAll(async () => {
    sb = await startTestApp({ overrides: { 'capabilities.kv.maxKeysPerNamespace': MAX_KEYS } })
    client = await connect(sb.mqttUrl)
  })
  afterAll(async () => {
    await client?.end()
    await sb?.stop({ clean: true })
  })

  it('GET /v4/keyvaluesnamespaces → 200 with a plain array of names ([] on a fresh store)', async () => {
    const empty = await http('GET', '/v4/keyvaluesnamespaces')
    expect(empty.status).toBe(200)
    expect(empty.contentType).toMatch(/^application\/json/)
    expect(empty.json).toEqual([])
    const a = ns('nsl-b')
    const b = ns('nsl-a')
    await post(a, { key: 'k', value: 'v' })
    await post(b, { key: 'k', value: 'v' })
    expect((await http('GET', '/v4/keyvaluesnamespaces')).json).toEqual([a, b].sort())
  })

  describe('POST /v4/keyvalues/:namespace', () => {
    it(
      '→ 201 {namespace, key, value, ttl} with ttl 0 when none is given; the namespace is created on ' + 'demand',
      async () => {
        const n = ns('post')
        const res = await post(n, { key: 'lastRun', value: '2026-11-28' })
        expect(res.status).toBe(201)
        expect(res.json).toEqual({ namespace: n, key: 'lastRun', value: '2026-11-28', ttl: 0 })
        expect((await http('GET', `/v4/keyvalues/${p(n)}?key=lastRun`)).json).toEqual({
          namespace: n,
          key: 'lastRun',
          value: '2026-11-28',
        })
      },
    )

    it('accepts "ttl":"60000" as a string (as butler_subs.qvs sends it) and answers ttl as a number', async () => {
      const n = ns('ttlstr')
      const res = await post(n, { key: 'k', value: 'v', ttl: '60000' })
      expect(res.status).toBe(201)
      expect(res.json).toEqual({ namespace: n, key: 'k', value: 'v', ttl: 60000 })
      const viaMqtt = await client.request<{ expiresAt: string }>('kv/get', { namespace: n, key: 'k' })
      expect(viaMqtt.status === 'ok' && Date.parse(viaMqtt.data.expiresAt) - Date.now()).toBeGreaterThan(50_000)
      expect((await post(n, { key: 'n', value: 'v', ttl: 1000 })).json).toMatchObject({ ttl: 1000 })
    })

    it('stores a number value as a string, and answers with the string', async () => {
      const n = ns('numval')
      const res = await post(n, { key: 'count', value: 12345.789 })
      expect(res.status).toBe(201)
      expect(res.json).toEqual({ namespace: n, key: 'count', value: '12345.789', ttl: 0 })
      expect((await http('GET', `/v4/keyvalues/${p(n)}?key=count`)).json).toMatchObject({ value: '12345.789' })
    })

    it('accepts a number key as Fastify coerces it for Butler, and stores it as a string', async () => {
      const n = ns('numkey')
      const res = await post(n, { key: 42, value: 'v' })
      expect(res.status, res.text).toBe(201)
      expect(res.json).toMatchObject({ namespace: n, key: '42', value: 'v' })
      expect((await http('GET', `/v4/keyvalues/${p(n)}?key=42`)).json).toEqual({ namespace: n, key: '42', value: 'v' })
    })

    it('an empty-string ttl → 400, and nothing is stored', async () => {
      const n = ns('emptyttl')
      expectButlerError(await post(n, { key: 'k', value: 'v', ttl: '' }), 400)
      expectButlerError(await http('GET', `/v4/keyvalues/${p(n)}?key=k`), 400)
    })

    it('a missing or empty key, a missing body or a body that is not an object → 400', async () => {
      const n = ns('nokey')
      expectButlerError(await post(n, { value: 'v' }), 400)
      expectButlerError(await post(n, { key: '', value: 'v' }), 400)
      expectButlerError(await http('POST', `/v4/keyvalues/${p(n)}`), 400)
      expectButlerError(await post(n, ['k', 'v']), 400)
      expectButlerError(await post(n, 'k=v'), 400)
      expect((await http('GET', '/v4/keyvaluesnamespaces')).json).not.toContain(n)
    })

    it('a missing value → 400 (Butler answered 201 and stored nothing; we refuse loudly)', async () => {
      const n = ns('novalue')
      expectButlerError(await post(n, { key: 'k' }), 400)
      expectButlerError(await http('GET', `/v4/keyvalues/${p(n)}?key=k`), 400)
    })

    it('overwrites an existing key, and an update resets its ttl', async () => {
      const n = ns('update')
      await post(n, { key: 'k', value: 'one', ttl: '400' })
      const res = await post(n, { key: 'k', value: 'two' })
      expect(res.json).toEqual({ namespace: n, key: 'k', value: 'two', ttl: 0 })
      await new Promise((r) => setTimeout(r, 550))
      expect((await http('GET', `/v4/keyvalues/${p(n)}?key=k`)).json).toEqual({ namespace: n, key: 'k', value: 'two' })
    })

    it('beyond maxKeysPerNamespace → 400 with a clear message, as Butler answers its KV errors', async () => {
      const n = ns('limit')
      for (let i = 0; i < MAX_KEYS; i++) expect((await post(n, { key: `k${i}`, value: 'v' })).status).toBe(201)
      const refused = await post(n, { key: 'extra', value: 'v' })
      expectButlerError(refused, 400)
      expect(refused.json.message).toContain(String(MAX_KEYS))
      expect((await post(n, { key: 'k0', value: 'updated' })).status).toBe(201)
    })

    it('a namespace with spaces, slashes and unicode travels URL-encoded in the path', async () => {
      const n = `Sales ETL/step 2 ✓ ${randomUUID().slice(0, 6)}`
      expect((await post(n, { key: 'Last extract timestamp', value: '2020-09-29 17:14:56' })).json).toMatchObject({
        namespace: n,
      })
      expect((await http('GET', `/v4/keyvalues/${p(n)}?key=${p('Last extract timestamp')}`)).json).toEqual({
        namespace: n,
        key: 'Last extract timestamp',
        value: '2020-09-29 17:14:56',
      })
      expect((await http('GET', '/v4/keyvaluesnamespaces')).json).toContain(n)
    })

    it('a set over HTTP goes through the bus: MQTT sees the same value and the retained mirror', async () => {
      const n = ns('cross')
      await post(n, { key: 'k', value: 'from-http' })
      expect(await client.request('kv/get', { namespace: n, key: 'k' })).toMatchObject({
        status: 'ok',
        data: { value: 'from-http' },
      })
      const seen = await client.collect(`sense/state/kv/${p(n)}/k`)
      await expect.poll(() => seen.map((m) => m.retain && JSON.parse(m.payload).value)).toEqual(['from-http'])
    })
  })

  describe('GET /v4/keyvalues/:namespace?key=', () => {
    it('→ 200 {namespace, key, value} and nothing else', async () => {
      const n = ns('get')
      await post(n, { key: 'k', value: 'v', ttl: '60000' })
      const res = await http('GET', `/v4/keyvalues/${p(n)}?key=k`)
      expect(res.status).toBe(200)
      expect(res.json).toEqual({ namespace: n, key: 'k', value: 'v' })
    })

    it('unknown namespace, unknown key, missing or empty key parameter → 400', async () => {
      const n = ns('get400')
      await post(n, { key: 'k', value: 'v' })
      const unknownNs = await http('GET', `/v4/keyvalues/${p(ns('nope'))}?key=k`)
      expectButlerError(unknownNs, 400)
      expect(unknownNs.json.message).toMatch(/namespace/i)
      const unknownKey = await http('GET', `/v4/keyvalues/${p(n)}?key=missing`)
      expectButlerError(unknownKey, 400)
      expect(unknownKey.json.message).toContain('missing')
      expectButlerError(await http('GET', `/v4/keyvalues/${p(n)}`), 400)
      expectButlerError(await http('GET', `/v4/keyvalues/${p(n)}?key=`), 400)
    })

    it('an expired key → 400', async () => {
      const n = ns('get-expired')
      await post(n, { key: 'k', value: 'v', ttl: '300' })
      expect((await http('GET', `/v4/keyvalues/${p(n)}?key=k`)).status).toBe(200)
      await expect
        .poll(async () => (await http('GET', `/v4/keyvalues/${p(n)}?key=k`)).status, { timeout: 3000, interval: 50 })
        .toBe(400)
    })

    it('reads a key containing &, = and + when the caller URL-encodes it', async () => {
      const n = ns('get-enc')
      const key = 'a&b=c+d'
      await post(n, { key, value: 'v' })
      expect((await http('GET', `/v4/keyvalues/${p(n)}?key=${p(key)}`)).json).toEqual({ namespace: n, key, value: 'v' })
    })
  })

  describe('GET /v4/keyvalues/:namespace/keyexists?key=', () => {
    it('→ 200 {keyExists:true, keyValue:{namespace,key,value}} or {keyExists:false, keyValue:{}}', async () => {
      const n = ns('exists')
      await post(n, { key: 'k', value: 'v' })
      const yes = await http('GET', `/v4/keyvalues/${p(n)}/keyexists?key=k`)
      expect(yes.status).toBe(200)
      expect(yes.json).toEqual({ keyExists: true, keyValue: { namespace: n, key: 'k', value: 'v' } })
      const no = await http('GET', `/v4/keyvalues/${p(n)}/keyexists?key=other`)
      expect(no.status).toBe(200)
      expect(no.json).toEqual({ keyExists: false, keyValue: {} })
    })

    it('an unknown namespace → 400 (not false), as Butler; a missing key parameter → 400', async () => {
      const n = ns('exists400')
      expectButlerError(await http('GET', `/v4/keyvalues/${p(n)}/keyexists?key=k`), 400)
      await post(n, { key: 'k', value: 'v' })
      expectButlerError(await http('GET', `/v4/keyvalues/${p(n)}/keyexists`), 400)
    })
  })

  describe('DELETE /v4/keyvalues/:namespace/:key', () => {
    it('→ 204 with an empty body; the second time → 400; unknown namespace → 400', async () => {
      const n = ns('delkey')
      await post(n, { key: 'k', value: 'v' })
      await post(n, { key: 'other', value: 'v' })
      const res = await http('DELETE', `/v4/keyvalues/${p(n)}/k`)
      expect(res.status).toBe(204)
      expect(res.text).toBe('')
      expectButlerError(await http('GET', `/v4/keyvalues/${p(n)}?key=k`), 400)
      const again = await http('DELETE', `/v4/keyvalues/${p(n)}/k`)
      expectButlerError(again, 400)
      expect(again.json.message).toContain("'k'")
      expectButlerError(await http('DELETE', `/v4/keyvalues/${p(ns('nope'))}/k`), 400)
      expect((await http('GET', `/v4/keylist/${p(n)}`)).json).toEqual({ namespace: n, keys: [{ key: 'other' }] })
    })

    it('deletes keys that contain a slash or are named "keyexists"', async () => {
      const n = ns('delodd')
      await post(n, { key: 'a/b', value: 'v' })
      await post(n, { key: 'keyexists', value: 'v' })
      expect((await http('DELETE', `/v4/keyvalues/${p(n)}/${p('a/b')}`)).status).toBe(204)
      expect((await http('DELETE', `/v4/keyvalues/${p(n)}/keyexists`)).status).toBe(204)
      expect((await http('GET', `/v4/keylist/${p(n)}`)).json).toEqual({ namespace: n, keys: [] })
    })
  })

  describe('DELETE /v4/keyvalues/:namespace', () => {
    it('→ 204 and the namespace is gone; the second time → 400', async () => {
      const n = ns('delns')
      await post(n, { key: 'a', value: 'v' })
      await post(n, { key: 'b', value: 'v' })
      const res = await http('DELETE', `/v4/keyvalues/${p(n)}`)
      expect(res.status).toBe(204)
      expect(res.text).toBe('')
      expect((await http('GET', '/v4/keyvaluesnamespaces')).json).not.toContain(n)
      expectButlerError(await http('GET', `/v4/keylist/${p(n)}`), 400)
      expectButlerError(await http('DELETE', `/v4/keyvalues/${p(n)}`), 400)
    })
  })

  describe('GET /v4/keylist/:namespace', () => {
    it('→ 200 {namespace, keys:[{key}]}; unknown namespace → 400', async () => {
      const n = ns('keylist')
      await post(n, { key: 'b', value: 'v', ttl: '60000' })
      await post(n, { key: 'a', value: 'v' })
      const res = await http('GET', `/v4/keylist/${p(n)}`)
      expect(res.status).toBe(200)
      expect(res.json).toEqual({ namespace: n, keys: [{ key: 'a' }, { key: 'b' }] })
      expectButlerError(await http('GET', `/v4/keylist/${p(ns('nope'))}`), 400)
    })
  })

  describe("what Qlik's REST connector sends (butler_subs.qvs)", () => {
    it('DeleteKeyValue: POST with X-HTTP-Method-Override: DELETE and no body → 204', async () => {
      const n = ns('qvs-delkey')
      await post(n, { key: 'k', value: 'v' })
      const res = await http('POST', `/v4/keyvalues/${p(n)}/k`, { headers: { 'X-HTTP-Method-Override': 'DELETE' } })
      expect(res.status).toBe(204)
      expectButlerError(await http('GET', `/v4/keyvalues/${p(n)}?key=k`), 400)
    })

    it(
      'DeleteKeyValueNamespace: POST with X-HTTP-Method-Override: DELETE, no body but a JSON content type → ' + '204',
      async () => {
        const n = ns('qvs-delns')
        await post(n, { key: 'k', value: 'v' })
        const res = await http('POST', `/v4/keyvalues/${p(n)}`, {
          headers: { 'x-http-method-override': 'delete', 'content-type': 'application/json', 'content-length': '0' },
        })
        expect(res.status).toBe(204)
        expect((await http('GET', '/v4/keyvaluesnamespaces')).json).not.toContain(n)
      },
    )

    it('the override applies to the Butler error statuses too: an unknown key → 400', async () => {
      const n = ns('qvs-del400')
      await post(n, { key: 'k', value: 'v' })
      expectButlerError(
        await http('POST', `/v4/keyvalues/${p(n)}/nope`, { headers: { 'X-HTTP-Method-Override': 'DELETE' } }),
        400,
      )
    })

    it('POST with X-HTTP-Method-Override: GET reads; with PUT it is not taken for a set', async () => {
      const n = ns('qvs-get')
      await post(n, { key: 'k', value: 'v' })
      const get = await http('POST', `/v4/keyvalues/${p(n)}?key=k`, { headers: { 'X-HTTP-Method-Override': 'GET' } })
      expect(get.status).toBe(200)
      expect(get.json).toEqual({ namespace: n, key: 'k', value: 'v' })
      // There is no PUT on this path (in Butler neither): a JSON 4xx, and no write happens.
      const put = await http('POST', `/v4/keyvalues/${p(n)}`, {
        body: { key: 'put', value: 'v' },
        headers: { 'X-HTTP-Method-Override': 'PUT' },
      })
      expect(put.status).toBeGreaterThanOrEqual(400)
      expect(put.status).toBeLessThan(500)
      expect(put.json).toMatchObject({ statusCode: put.status })
      expect((await http('GET', `/v4/keyvalues/${p(n)}/keyexists?key=put`)).json).toEqual({
        keyExists: false,
        keyValue: {},
      })
    })

    it('honours X-HTTP-Method-Override only on POST: a GET carrying it stays a read', async () => {
      const n = ns('qvs-getoverride')
      await post(n, { key: 'k', value: 'v' })
      const res = await http('GET', `/v4/keyvalues/${p(n)}?key=k`, { headers: { 'X-HTTP-Method-Override': 'DELETE' } })
      expect(res.status).toBe(200)
      expect((await http('GET', `/v4/keyvalues/${p(n)}?key=k`)).json).toEqual({ namespace: n, key: 'k', value: 'v' })
    })

    it('takes the namespace from the path even when the body names another one', async () => {
      const n = ns('qvs-pathwins')
      const other = ns('qvs-bodyns')
      expect((await post(n, { namespace: other, key: 'k', value: 'v' })).json).toMatchObject({ namespace: n })
      const all = (await http('GET', '/v4/keyvaluesnamespaces')).json
      expect(all).toContain(n)
      expect(all).not.toContain(other)
    })

    it('AddKeyValue with a charset in the content type, then GetKeyValue and ExistsKeyValue', async () => {
      const n = ns('qvs-flow')
      const add = await http('POST', `/v4/keyvalues/${p(n)}`, {
        body: '{"key": "Last extract", "value": "2020-09-29 17:14:56", "ttl": "60000"}',
        headers: { 'content-type': 'application/json; charset=utf-8' },
      })
      expect(add.status).toBe(201)
      expect(add.json).toEqual({ namespace: n, key: 'Last extract', value: '2020-09-29 17:14:56', ttl: 60000 })
      expect((await http('GET', `/v4/keyvalues/${p(n)}?key=Last%20extract`)).json).toMatchObject({
        value: '2020-09-29 17:14:56',
      })
      expect((await http('GET', `/v4/keyvalues/${p(n)}/keyexists?key=Last%20extract`)).json).toMatchObject({
        keyExists: true,
      })
    })
  })
})
