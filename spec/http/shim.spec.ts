import { Ajv2020 } from 'ajv/dist/2020.js'
import * as addFormatsModule from 'ajv-formats'
import type { FormatsPlugin } from 'ajv-formats'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { modules } from '../../src/capabilities/index.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { connect, type TestClient } from '../helpers/client.js'
import { testModule } from '../helpers/slow-module.js'
import { call, expectButlerError, expectGenericError, rawHttp, type HttpAnswer } from './http-helpers.js'

// ajv-formats is CJS with a default export; under NodeNext it arrives wrapped.
const addFormats = ((addFormatsModule as unknown as { default?: FormatsPlugin }).default ??
  addFormatsModule) as FormatsPlugin

const ALLOWED = 'https://allowed.example'
const DENIED = 'https://evil.example'
const LIMIT = 1024
const MAX_KEYS = 2

/** Every capability and Butler route the registry declares, so a new one is covered without editing this file. */
const capabilities = modules.flatMap((m) => m.capabilities)
const butlerRoutes = capabilities.flatMap((c) =>
  (c.routes ?? []).map((r) => ({ capability: c.name, method: r.method, path: r.path })),
)
const fill = (path: string, value: string) => path.replace(/:[A-Za-z0-9_]+/g, value)

describe('HTTP shim', () => {
  let sb: TestApp
  let client: TestClient
  const http = (method: string, path: string, opts?: Parameters<typeof call>[3]): Promise<HttpAnswer> =>
    call(sb.httpUrl, method, path, opts)

  beforeAll(async () => {
    sb = await startTestApp({
      overrides: {
        'http.bodyLimitBytes': LIMIT,
        'http.cors.origins': [ALLOWED],
        'capabilities.kv.maxKeysPerNamespace': MAX_KEYS,
      },
    })
    client = await connect(sb.mqttUrl)
  })
  afterAll(async () => {
    await client?.end()
    await sb?.stop({ clean: true })
  })

  describe('generic dialect POST /api/v1/<capability>', () => {
    it('answers 200 with the capability data itself, not an envelope', async () => {
      const set = await http('POST', '/api/v1/kv/set', { body: { namespace: 'gen', key: 'k', value: 7 } })
      expect(set.status).toBe(200)
      expect(set.contentType).toMatch(/^application\/json/)
      expect(set.json).toEqual({ namespace: 'gen', key: 'k', value: '7', ttl: 0, expiresAt: null })
      expect((await http('POST', '/api/v1/kv/get', { body: { namespace: 'gen', key: 'k' } })).json).toEqual({
        namespace: 'gen',
        key: 'k',
        value: '7',
        expiresAt: null,
      })
      const ping = await http('POST', '/api/v1/util/ping', { body: {} })
      expect(ping.json).toEqual({
        response: 'Butler reporting for duty',
        butlerVersion: expect.any(String),
        version: expect.any(String),
      })
    })

    it('takes no body at all for capabilities without parameters', async () => {
      const res = await http('POST', '/api/v1/kv/namespaces')
      expect(res.status).toBe(200)
      expect(res.json).toEqual({ namespaces: expect.any(Array) })
      const caps = await http('POST', '/api/v1/util/capabilities')
      expect([...caps.json.capabilities].sort()).toEqual(capabilities.map((c) => c.name).sort())
    })

    it('maps error codes through the status table with a {code, message, details} body', async () => {
      const notFound = await http('POST', '/api/v1/kv/get', { body: { namespace: 'no-such-ns', key: 'k' } })
      expectGenericError(notFound, 404, 'NOT_FOUND')
      expect(notFound.json.details).toEqual({ namespace: 'no-such-ns' })
      const invalid = await http('POST', '/api/v1/kv/set', { body: { namespace: 'gen', key: 5 } })
      expectGenericError(invalid, 400, 'VALIDATION_FAILED')
      expect(invalid.json.details.map((d: { path: string }) => d.path).sort()).toEqual(['/key', '/value'])
      for (let i = 0; i < MAX_KEYS; i++)
        await http('POST', '/api/v1/kv/set', { body: { namespace: 'gen-limit', key: `k${i}`, value: 'v' } })
      expectGenericError(
        await http('POST', '/api/v1/kv/set', { body: { namespace: 'gen-limit', key: 'extra', value: 'v' } }),
        429,
        'LIMIT_EXCEEDED',
      )
    })

    it('never hangs on a body that names its own transaction or replyTo', async () => {
      const res = await http('POST', '/api/v1/util/ping', { body: { transaction: 'mine', replyTo: 'somewhere/else' } })
      expect(res.status).toBe(200)
      const bad = await http('POST', '/api/v1/util/ping', { body: { replyTo: 'sense/state/x' } })
      expect(bad.status).toBeLessThan(500)
    })

    it('publishes every HTTP call as a request on the bus (the shim calls no handler directly)', async () => {
      const seen = await client.collect('sense/request/util/ping')
      await http('POST', '/api/v1/util/ping')
      await http('GET', '/v4/butlerping')
      await expect.poll(() => seen.length).toBe(2)
      for (const m of seen)
        expect(JSON.parse(m.payload)).toMatchObject({ transaction: expect.any(String), replyTo: expect.any(String) })
    })
  })

  describe('utilities over HTTP', () => {
    it('GET /v4/butlerping → 200 {response, butlerVersion}', async () => {
      const res = await http('GET', '/v4/butlerping')
      expect(res.status).toBe(200)
      expect(res.json).toEqual({
        response: 'Butler reporting for duty',
        butlerVersion: expect.stringMatching(/^\d+\.\d+\.\d+/),
      })
    })

    it(
      'GET /v4/base62tobase16 and /v4/base16tobase62 convert both ways, keeping every digit of a 128-bit ' + 'id',
      async () => {
        const to16 = await http('GET', '/v4/base62tobase16?base62=6DMW88LpSok9Z7P7hUK0wv7bF')
        expect(to16.status).toBe(200)
        expect(to16.json).toEqual({
          base62: '6DMW88LpSok9Z7P7hUK0wv7bF',
          base16: '3199af08bfeeaf5d420f27ed9c01e74370077',
        })
        const to62 = await http('GET', '/v4/base16tobase62?base16=e3b0c44298fc1c149afbf4c8996fb924')
        expect(to62.json).toEqual({ base16: 'e3b0c44298fc1c149afbf4c8996fb924', base62: '6VE2wRoL3MNCIb6wil2FiA' })
        expect((await http('GET', '/v4/base62tobase16?base62=6VE2wRoL3MNCIb6wil2FiA')).json).toMatchObject({
          base16: 'e3b0c44298fc1c149afbf4c8996fb924',
        })
        expect((await http('GET', '/v4/base16tobase62?base16=ff')).json).toEqual({ base16: 'ff', base62: '47' })
        expect((await http('GET', '/v4/base62tobase16?base62=0')).json).toEqual({ base62: '0', base16: '0' })
      },
    )

    it.each([
      '/v4/base62tobase16',
      '/v4/base62tobase16?base62=',
      '/v4/base62tobase16?base62=abc-def',
      '/v4/base62tobase16?base62=%F0%9F%98%80',
      `/v4/base62tobase16?base62=${'a'.repeat(65)}`,
      '/v4/base16tobase62',
      '/v4/base16tobase62?base16=xyz',
      '/v4/base16tobase62?base16=12%2034',
      '/v4/base16tobase62?other=ff',
    ])('GET %s → 400', async (path) => {
      expectButlerError(await http('GET', path), 400)
    })

    it('GET /v4/configfile/endpointsenabled → 200 with the Butler flag names of the enabled routes', async () => {
      const res = await http('GET', '/v4/configfile/endpointsenabled')
      expect(res.status).toBe(200)
      const flags = [
        ...new Set(capabilities.flatMap((c) => (c.routes ?? []).map((r) => r.butlerFlag)).filter(Boolean)),
      ].sort()
      expect([...res.json].sort()).toEqual(flags)
      expect(res.json).toEqual(
        expect.arrayContaining([
          'butlerping',
          'keyValueStore',
          'base62ToBase16',
          'base16ToBase62',
          'apiListEnabledEndpoints',
        ]),
      )
    })
  })

  describe('bad requests get a JSON 4xx, never a crash or a hang', () => {
    it('body that is not JSON → 400 BAD_JSON', async () => {
      expectGenericError(
        await http('POST', '/api/v1/kv/set', {
          body: '{"namespace": "x", ',
          headers: { 'content-type': 'application/json' },
        }),
        400,
        'BAD_JSON',
      )
      expectButlerError(
        await http('POST', '/v4/keyvalues/x', { body: "{key: 'k'}", headers: { 'content-type': 'application/json' } }),
        400,
      )
    })

    it('a JSON body that is not an object → 400 VALIDATION_FAILED', async () => {
      for (const body of ['[]', '"text"', '12', 'true']) {
        expectGenericError(
          await http('POST', '/api/v1/kv/set', { body, headers: { 'content-type': 'application/json' } }),
          400,
          'VALIDATION_FAILED',
        )
      }
    })

    it('a body with another content type → 415', async () => {
      expectGenericError(
        await http('POST', '/api/v1/util/ping', {
          body: 'a=b',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      )
      expectGenericError(
        await http('POST', '/api/v1/util/ping', { body: '<a/>', headers: { 'content-type': 'application/xml' } }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      )
      expectButlerError(
        await http('POST', '/v4/keyvalues/x', {
          body: '{"key":"k","value":"v"}',
          headers: { 'content-type': 'text/csv' },
        }),
        415,
      )
      // application/*+json is JSON.
      expect(
        (
          await http('POST', '/api/v1/util/ping', {
            body: '{}',
            headers: { 'content-type': 'application/vnd.api+json' },
          })
        ).status,
      ).toBe(200)
    })

    it('no Content-Type or text/plain: read as JSON when it parses (load scripts), else 400 BAD_JSON', async () => {
      const body = '{"namespace":"lenient","key":"k","value":"v"}'
      const types = ['', 'text/plain', 'text/plain; charset=utf-8']
      for (const headers of types.map((t): Record<string, string> => (t ? { 'content-type': t } : {}))) {
        const res = await http('POST', '/api/v1/kv/set', { body, headers })
        expect(res.status, res.text).toBe(200)
        expect(res.json).toMatchObject({ namespace: 'lenient', key: 'k', value: 'v' })
      }
      const bad = await http('POST', '/api/v1/util/ping', { body: 'hello', headers: { 'content-type': 'text/plain' } })
      expectGenericError(bad, 400, 'BAD_JSON')
      expect(bad.json.message).toContain('text/plain')
      expectGenericError(await http('POST', '/api/v1/util/ping', { body: 'a=b' }), 400, 'BAD_JSON')
    })

    it('a browser (Origin sent) must say application/json: no preflight-free cross-site writes', async () => {
      const body = '{"namespace":"csrf","key":"k","value":"v"}'
      for (const origin of [ALLOWED, DENIED]) {
        for (const headers of [{ origin }, { origin, 'content-type': 'text/plain' }] as Record<string, string>[]) {
          const res = await http('POST', '/api/v1/kv/set', { body, headers })
          expectGenericError(res, 415, 'UNSUPPORTED_MEDIA_TYPE')
          expect(res.json.message).toContain('application/json')
        }
      }
      const stored = await client.request('kv/get', { namespace: 'csrf', key: 'k' })
      expect(stored.status === 'error' && stored.error.code).toBe('NOT_FOUND')
    })

    it('a body over http.bodyLimitBytes → 413, declared or streamed, and the shim keeps serving', async () => {
      const big = JSON.stringify({ namespace: 'big', key: 'k', value: 'x'.repeat(LIMIT) })
      expectGenericError(
        await http('POST', '/api/v1/kv/set', { body: big, headers: { 'content-type': 'application/json' } }),
        413,
        'PAYLOAD_TOO_LARGE',
      )
      expectGenericError(
        await http('POST', '/api/v1/kv/set', {
          body: big,
          headers: { 'content-type': 'application/json' },
          chunked: true,
        }),
        413,
        'PAYLOAD_TOO_LARGE',
      )
      expectButlerError(
        await http('POST', '/v4/keyvalues/big', { body: big, headers: { 'content-type': 'application/json' } }),
        413,
      )
      expect(errorOf(await client.request('kv/get', { namespace: 'big', key: 'k' }))).toBe('NOT_FOUND')
      const fits = JSON.stringify({ namespace: 'big', key: 'k', value: 'x'.repeat(LIMIT - 60) })
      expect(Buffer.byteLength(fits)).toBeLessThanOrEqual(LIMIT)
      expect(
        (await http('POST', '/api/v1/kv/set', { body: fits, headers: { 'content-type': 'application/json' } })).status,
      ).toBe(200)
      expect((await http('GET', '/v4/butlerping')).status).toBe(200)
    })

    it('unknown routes → 404 in the dialect of the path', async () => {
      expectButlerError(await http('GET', '/v4/nosuchroute'), 404)
      expectButlerError(await http('GET', '/v4/keyvalues'), 404)
      expectButlerError(await http('GET', '/v4/keyvalues/a/b/c/d'), 404)
      expectGenericError(await http('POST', '/api/v1/nope/nothing'), 404, 'NOT_FOUND')
      expectGenericError(await http('POST', '/api/v1/kv'), 404, 'NOT_FOUND')
      expectGenericError(await http('GET', '/nothing-here'), 404, 'NOT_FOUND')
      expectGenericError(await http('GET', '/favicon.ico'), 404, 'NOT_FOUND')
    })

    it('a known path with the wrong method → 405 with an Allow header', async () => {
      const put = await http('PUT', '/v4/butlerping')
      expectButlerError(put, 405)
      expect(put.headers.allow).toBe('GET')
      const del = await http('DELETE', '/v4/keyvaluesnamespaces')
      expectButlerError(del, 405)
      const get = await http('GET', '/api/v1/util/ping')
      expectGenericError(get, 405, 'METHOD_NOT_ALLOWED')
      expect(get.headers.allow).toBe('POST')
      const patch = await http('PATCH', '/v4/keyvalues/ns')
      expectButlerError(patch, 405)
      expect(String(patch.headers.allow).split(', ').sort()).toEqual(['DELETE', 'GET', 'POST'])
    })

    it('malformed percent-encoding in a path parameter → 400', async () => {
      expectButlerError(await http('GET', '/v4/keylist/%E0%A4%A'), 400)
      expectButlerError(await http('DELETE', '/v4/keyvalues/ns/%'), 400)
    })

    it('a client that hangs up halfway through its body does not take the server down', async () => {
      const head =
        'POST /v4/keyvalues/halfway HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ' +
        '500\r\n\r\n{"key":"k",'
      await rawHttp(sb.httpUrl, head, 200)
      expect((await http('GET', '/v4/butlerping')).status).toBe(200)
      expectButlerError(await http('GET', '/v4/keylist/halfway'), 400)
    })

    it('a request that is not HTTP at all → 400 JSON on the socket, and the server lives on', async () => {
      const out = await rawHttp(sb.httpUrl, 'HELLO THERE\r\n\r\n')
      expect(out).toMatch(/^HTTP\/1\.1 400/)
      expect(JSON.parse(out.slice(out.indexOf('\r\n\r\n') + 4))).toMatchObject({ code: 'BAD_REQUEST' })
      expect((await http('GET', '/v4/butlerping')).status).toBe(200)
    })
  })

  describe('CORS', () => {
    it(
      'answers a preflight from an allowed origin with 204 and the methods and headers Butler scripts ' + 'use',
      async () => {
        const res = await http('OPTIONS', '/v4/keyvalues/ns', {
          headers: {
            origin: ALLOWED,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type, x-http-method-override',
          },
        })
        expect(res.status).toBe(204)
        expect(res.headers['access-control-allow-origin']).toBe(ALLOWED)
        expect(res.headers.vary).toMatch(/origin/i)
        const methods = String(res.headers['access-control-allow-methods']).split(/,\s*/)
        expect(methods).toEqual(expect.arrayContaining(['GET', 'POST', 'DELETE']))
        expect(String(res.headers['access-control-allow-headers']).toLowerCase()).toMatch(/content-type/)
        expect(String(res.headers['access-control-allow-headers']).toLowerCase()).toMatch(/x-http-method-override/)
      },
    )

    it('grants nothing to another origin, preflight or not', async () => {
      const pre = await http('OPTIONS', '/v4/keyvalues/ns', {
        headers: { origin: DENIED, 'access-control-request-method': 'POST' },
      })
      expect(pre.headers['access-control-allow-origin']).toBeUndefined()
      expect(pre.status).toBeGreaterThanOrEqual(400)
      expect(pre.json).toBeDefined()
      const get = await http('GET', '/v4/butlerping', { headers: { origin: DENIED } })
      expect(get.status).toBe(200)
      expect(get.headers['access-control-allow-origin']).toBeUndefined()
    })

    it('marks real responses for an allowed origin, errors included; nothing without an Origin', async () => {
      const ok = await http('GET', '/v4/butlerping', { headers: { origin: ALLOWED } })
      expect(ok.headers['access-control-allow-origin']).toBe(ALLOWED)
      const err = await http('GET', '/v4/keylist/no-such-namespace', { headers: { origin: ALLOWED } })
      expect(err.status).toBe(400)
      expect(err.headers['access-control-allow-origin']).toBe(ALLOWED)
      expect((await http('GET', '/v4/butlerping')).headers['access-control-allow-origin']).toBeUndefined()
    })
  })

  describe('OpenAPI', () => {
    let doc: any
    beforeAll(async () => {
      const res = await http('GET', '/api/openapi.json')
      expect(res.status).toBe(200)
      expect(res.contentType).toMatch(/^application\/json/)
      doc = res.json
    })

    it('is an OpenAPI 3 document with info and paths', () => {
      expect(doc.openapi).toMatch(/^3\.(0|1)\.\d+$/)
      expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) })
      expect(typeof doc.paths).toBe('object')
      for (const [path, item] of Object.entries<Record<string, any>>(doc.paths)) {
        expect(path.startsWith('/')).toBe(true)
        expect(path).not.toMatch(/:/)
        for (const [method, op] of Object.entries<any>(item)) {
          expect(['get', 'post', 'put', 'delete', 'patch']).toContain(method)
          expect(Object.keys(op.responses ?? {}).length, `${method} ${path}`).toBeGreaterThan(0)
          // Every {param} in the path is declared as a required path parameter.
          for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
            expect(op.parameters, `${method} ${path}`).toContainEqual(
              expect.objectContaining({ name, in: 'path', required: true }),
            )
          }
        }
      }
    })

    it('lists every capability under /api/v1 and every Butler route, with unique operationIds', () => {
      for (const c of capabilities) expect(doc.paths[`/api/v1/${c.name}`]?.post, c.name).toBeDefined()
      for (const r of butlerRoutes) {
        const path = r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')
        expect(doc.paths[path]?.[r.method.toLowerCase()], `${r.method} ${r.path}`).toBeDefined()
      }
      const ids = Object.values<Record<string, { operationId?: string }>>(doc.paths).flatMap((item) =>
        Object.values(item).map((op) => op.operationId),
      )
      expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true)
      expect(new Set(ids).size).toBe(ids.length)
    })

    it('carries schemas valid for its version: JSON Schema 2020-12 in 3.1, no type arrays or const in 3.0', () => {
      const schemas: Array<[string, unknown]> = []
      for (const [path, item] of Object.entries<Record<string, any>>(doc.paths)) {
        for (const [method, op] of Object.entries<any>(item)) {
          const at = `${method} ${path}`
          for (const [type, media] of Object.entries<any>(op.requestBody?.content ?? {}))
            schemas.push([`${at} request ${type}`, media.schema])
          for (const [status, res] of Object.entries<any>(op.responses ?? {}))
            for (const media of Object.values<any>(res.content ?? {})) schemas.push([`${at} ${status}`, media.schema])
          for (const param of op.parameters ?? []) schemas.push([`${at} param ${param.name}`, param.schema])
        }
      }
      expect(schemas.length).toBeGreaterThan(capabilities.length)
      if (String(doc.openapi).startsWith('3.0')) {
        const problems: string[] = []
        const walk = (node: unknown, at: string): void => {
          if (Array.isArray(node)) {
            node.forEach((n, i) => walk(n, `${at}/${i}`))
            return
          }
          if (!node || typeof node !== 'object') return
          const o = node as Record<string, unknown>
          if (Array.isArray(o.type)) problems.push(`${at}: type ${JSON.stringify(o.type)}`)
          if (o.const !== undefined && typeof o.const !== 'object') problems.push(`${at}: const`)
          for (const [k, v] of Object.entries(o)) if (k !== 'properties') walk(v, `${at}/${k}`)
          if (o.properties && typeof o.properties === 'object')
            for (const [k, v] of Object.entries(o.properties)) walk(v, `${at}/properties/${k}`)
        }
        for (const [at, schema] of schemas) walk(schema, at)
        expect(problems).toEqual([])
      } else {
        const ajv = new Ajv2020({ strict: false })
        addFormats(ajv)
        for (const [at, schema] of schemas) expect(() => ajv.compile(schema as object), at).not.toThrow()
      }
    })
  })

  describe('every route answers malformed input with a JSON 4xx', () => {
    const hasParams = butlerRoutes.filter((r) => r.path.includes(':'))

    it.each(butlerRoutes)('$method $path: a body that is not JSON', async ({ method, path }) => {
      const res = await http(method, fill(path, 'x'), {
        body: '{"broken": ',
        headers: { 'content-type': 'application/json' },
      })
      expectButlerError(res, 400)
    })

    it.each(hasParams)('$method $path: a path parameter with broken percent-encoding', async ({ method, path }) => {
      expectButlerError(await http(method, fill(path, '%E0%A4%A'), { headers: {} }), 400)
    })

    it.each(butlerRoutes)(
      '$method $path: through X-HTTP-Method-Override with a wrong content type',
      async ({ method, path }) => {
        const res = await http('POST', fill(path, 'x'), {
          body: 'key=k',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-http-method-override': method },
        })
        expect(res.status).toBeGreaterThanOrEqual(400)
        expect(res.status).toBeLessThan(500)
        expect(res.json).toMatchObject({
          statusCode: res.status,
          error: expect.any(String),
          message: expect.any(String),
        })
      },
    )

    it.each(capabilities.map((c) => c.name))(
      'POST /api/v1/%s: bad JSON, a non-object, an unknown field',
      async (name) => {
        expectGenericError(
          await http('POST', `/api/v1/${name}`, {
            body: '{"broken": ',
            headers: { 'content-type': 'application/json' },
          }),
          400,
          'BAD_JSON',
        )
        expectGenericError(
          await http('POST', `/api/v1/${name}`, { body: '[1]', headers: { 'content-type': 'application/json' } }),
          400,
          'VALIDATION_FAILED',
        )
        expectGenericError(
          await http('POST', `/api/v1/${name}`, { body: { 'not-a-field': true } }),
          400,
          'VALIDATION_FAILED',
        )
      },
    )
  })
})

function errorOf(env: { status: string; error?: { code: string } }): string | undefined {
  return env.status === 'error' ? env.error?.code : undefined
}

describe('CORS with a wildcard origin', () => {
  let sb: TestApp
  beforeAll(async () => {
    sb = await startTestApp({ overrides: { 'http.cors.origins': ['*'] } })
  })
  afterAll(async () => {
    await sb?.stop({ clean: true })
  })

  it('allows any origin with *', async () => {
    const pre = await call(sb.httpUrl, 'OPTIONS', '/api/v1/kv/set', {
      headers: { origin: DENIED, 'access-control-request-method': 'POST' },
    })
    expect(pre.status).toBe(204)
    expect(pre.headers['access-control-allow-origin']).toBe('*')
    const get = await call(sb.httpUrl, 'GET', '/v4/butlerping', { headers: { origin: 'http://localhost:3000' } })
    expect(get.headers['access-control-allow-origin']).toBe('*')
  })
})

describe('a disabled capability', () => {
  describe("'kv/delete-namespace' disabled", () => {
    let sb: TestApp
    let client: TestClient
    beforeAll(async () => {
      sb = await startTestApp({ overrides: { 'capabilities.disabled': ['kv/delete-namespace'] } })
      client = await connect(sb.mqttUrl)
      await call(sb.httpUrl, 'POST', '/v4/keyvalues/ns', { body: { key: 'k', value: 'v' } })
    })
    afterAll(async () => {
      await client?.end()
      await sb?.stop({ clean: true })
    })

    it('answers NOT_FOUND on MQTT', async () => {
      expect(await client.request('kv/delete-namespace', { namespace: 'ns' })).toMatchObject({
        status: 'error',
        error: { code: 'NOT_FOUND' },
      })
    })

    it('answers 404 on its generic route', async () => {
      expectGenericError(
        await call(sb.httpUrl, 'POST', '/api/v1/kv/delete-namespace', { body: { namespace: 'ns' } }),
        404,
        'NOT_FOUND',
      )
    })

    it('answers 404 on its Butler route, also through X-HTTP-Method-Override, and deletes nothing', async () => {
      expectButlerError(await call(sb.httpUrl, 'DELETE', '/v4/keyvalues/ns'), 404)
      expectButlerError(
        await call(sb.httpUrl, 'POST', '/v4/keyvalues/ns', { headers: { 'x-http-method-override': 'DELETE' } }),
        404,
      )
      expect((await call(sb.httpUrl, 'GET', '/v4/keyvaluesnamespaces')).json).toEqual(['ns'])
    })

    it('leaves the rest of the area working', async () => {
      expect((await call(sb.httpUrl, 'GET', '/v4/keyvalues/ns?key=k')).json).toEqual({
        namespace: 'ns',
        key: 'k',
        value: 'v',
      })
      expect((await call(sb.httpUrl, 'GET', '/v4/configfile/endpointsenabled')).json).toContain('keyValueStore')
      const doc = (await call(sb.httpUrl, 'GET', '/api/openapi.json')).json
      expect(doc.paths['/api/v1/kv/delete-namespace']).toBeUndefined()
      expect(doc.paths['/v4/keyvalues/{namespace}'].delete).toBeUndefined()
      expect(doc.paths['/v4/keyvalues/{namespace}'].get).toBeDefined()
    })
  })

  describe("'util/*' disabled", () => {
    let sb: TestApp
    let client: TestClient
    beforeAll(async () => {
      sb = await startTestApp({ overrides: { 'capabilities.disabled': ['util/*'] } })
      client = await connect(sb.mqttUrl)
    })
    afterAll(async () => {
      await client?.end()
      await sb?.stop({ clean: true })
    })

    it('answers 404 on every util route and NOT_FOUND on every util topic', async () => {
      const util = capabilities.filter((c) => c.name.startsWith('util/'))
      expect(util.length).toBeGreaterThan(0)
      for (const c of util) {
        expect(await client.request(c.name, {}), c.name).toMatchObject({
          status: 'error',
          error: { code: 'NOT_FOUND' },
        })
        expectGenericError(await call(sb.httpUrl, 'POST', `/api/v1/${c.name}`), 404, 'NOT_FOUND')
        for (const r of c.routes ?? []) expectButlerError(await call(sb.httpUrl, r.method, fill(r.path, 'x')), 404)
      }
    })

    it('keeps kv working and leaves util out of the OpenAPI document', async () => {
      expect((await call(sb.httpUrl, 'GET', '/v4/keyvaluesnamespaces')).json).toEqual([])
      const doc = (await call(sb.httpUrl, 'GET', '/api/openapi.json')).json
      expect(
        Object.keys(doc.paths).filter((p) => p.includes('util') || p.includes('butlerping') || p.includes('base62')),
      ).toEqual([])
    })
  })
})

describe('the status table for failures that only show under load or on a bug', () => {
  let sb: TestApp
  beforeAll(async () => {
    sb = await startTestApp({
      modules: [...modules, testModule],
      overrides: { 'bus.maxInFlight': 1, 'http.requestTimeoutMs': 2500 },
    })
  })
  afterAll(async () => {
    await sb?.stop({ clean: true })
  })
  const post = (name: string, body: object) => call(sb.httpUrl, 'POST', `/api/v1/${name}`, { body })

  it('a coded handler error keeps its code and status; an unexpected one is a bare 500 INTERNAL', async () => {
    const coded = await post('test/throw', { kind: 'coded' })
    expectGenericError(coded, 409, 'CONFLICT')
    expect(coded.json).toEqual({ code: 'CONFLICT', message: 'a coded failure', details: { why: 'test' } })
    const bug = await post('test/throw', { kind: 'bug' })
    expectGenericError(bug, 500, 'INTERNAL')
    expect(bug.text).not.toContain('secret internal detail')
    expect(bug.text).not.toMatch(/at .*\.ts:\d+/)
  })

  it('a handler over its time limit → 504 TIMEOUT, answered at the limit rather than hanging', async () => {
    const started = Date.now()
    expectGenericError(await post('test/sleep', { ms: 2200 }), 504, 'TIMEOUT')
    expect(Date.now() - started).toBeLessThan(2200)
  })

  it('beyond bus.maxInFlight → 503 BUSY for the extra request, 200 for the one admitted', async () => {
    const [slow, extra] = await Promise.all([
      post('test/sleep', { ms: 400 }),
      new Promise((r) => setTimeout(r, 100)).then(() => post('test/sleep', { ms: 1 })),
    ])
    expect(slow.status).toBe(200)
    expectGenericError(extra, 503, 'BUSY')
  })
})

describe('many concurrent HTTP calls', () => {
  let sb: TestApp
  beforeAll(async () => {
    sb = await startTestApp()
  })
  afterAll(async () => {
    await sb?.stop({ clean: true })
  })

  it('each gets its own answer', async () => {
    const n = 60
    const sets = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        call(sb.httpUrl, 'POST', `/v4/keyvalues/conc-${i % 6}`, { body: { key: `k${i}`, value: `v${i}` } }),
      ),
    )
    expect(sets.map((r) => r.status)).toEqual(Array(n).fill(201))
    expect(sets.map((r) => r.json.value)).toEqual(Array.from({ length: n }, (_, i) => `v${i}`))
    const gets = await Promise.all(
      Array.from({ length: n }, (_, i) => call(sb.httpUrl, 'GET', `/v4/keyvalues/conc-${i % 6}?key=k${i}`)),
    )
    expect(gets.map((r) => r.json)).toEqual(
      Array.from({ length: n }, (_, i) => ({ namespace: `conc-${i % 6}`, key: `k${i}`, value: `v${i}` })),
    )
  })
})
