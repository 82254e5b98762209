import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { securityOverrides, startSecureApp, TOKENS, type SecureApp } from './harness.js'

async function call(
  base: string,
  method: string,
  path: string,
  opts: { token?: string; authorization?: string; body?: unknown } = {},
) {
  const headers: Record<string, string> = {}
  if (opts.token) headers.authorization = `Bearer ${opts.token}`
  if (opts.authorization) headers.authorization = opts.authorization
  if (opts.body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  })
  const text = await res.text()
  return {
    status: res.status,
    headers: res.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
  }
}

describe('HTTP bearer tokens', () => {
  let sb: SecureApp

  beforeAll(async () => {
    sb = await startSecureApp({ overrides: await securityOverrides() })
  })
  afterAll(async () => {
    await sb?.stop()
  })

  it('answers a call without a token 401 with a JSON body in both dialects, and names the scheme', async () => {
    const generic = await call(sb.httpUrl, 'POST', '/api/v1/util/ping', { body: {} })
    expect(generic.status).toBe(401)
    expect(generic.headers.get('www-authenticate')).toMatch(/^Bearer /)
    expect(generic.body).toEqual({ code: 'UNAUTHORIZED', message: expect.stringContaining('Bearer'), details: null })
    const butler = await call(sb.httpUrl, 'GET', '/v4/butlerping')
    expect(butler.status).toBe(401)
    expect(butler.body).toMatchObject({
      statusCode: 401,
      error: 'Unauthorized',
      code: 'UNAUTHORIZED',
      message: expect.any(String),
    })
  })

  it('answers an unknown or malformed token 401', async () => {
    for (const authorization of [`Bearer ${TOKENS.etl}x`, 'Bearer', 'Basic ZXRsOmV0bA==', `Token ${TOKENS.etl}`]) {
      expect((await call(sb.httpUrl, 'GET', '/v4/butlerping', { authorization })).status).toBe(401)
    }
  })

  it('answers a token whose roles do not cover the capability 403, in both dialects', async () => {
    const butler = await call(sb.httpUrl, 'POST', '/v4/keyvalues/web', {
      token: TOKENS.watcher,
      body: { key: 'k', value: 'v' },
    })
    expect(butler.status).toBe(403)
    expect(butler.body).toMatchObject({ statusCode: 403, error: 'Forbidden', code: 'FORBIDDEN' })
    const generic = await call(sb.httpUrl, 'POST', '/api/v1/kv/set', {
      token: TOKENS.watcher,
      body: { namespace: 'web', key: 'k', value: 'v' },
    })
    expect(generic).toMatchObject({ status: 403, body: { code: 'FORBIDDEN', details: null } })
  })

  it('serves a token with the right role, whatever the case of the scheme', async () => {
    const set = await call(sb.httpUrl, 'POST', '/v4/keyvalues/web', {
      authorization: `bearer ${TOKENS.etl}`,
      body: { key: 'k', value: 'v' },
    })
    expect(set).toMatchObject({ status: 201, body: { namespace: 'web', key: 'k', value: 'v' } })
    const get = await call(sb.httpUrl, 'POST', '/api/v1/kv/get', {
      token: TOKENS.etl,
      body: { namespace: 'web', key: 'k' },
    })
    expect(get).toMatchObject({ status: 200, body: { value: 'v' } })
  })

  it('keeps the OpenAPI document public', async () => {
    expect((await call(sb.httpUrl, 'GET', '/api/openapi.json')).status).toBe(200)
  })

  it('audits HTTP calls under the token name, refused ones included', async () => {
    await expect
      .poll(() => sb.logs.filter((l) => l.area === 'audit' && l.transport === 'http'))
      .toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            capability: 'kv/set',
            via: 'http',
            username: 'etl-scripts',
            tokenName: 'etl-scripts',
            roles: ['loadscript'],
            outcome: 'ok',
          }),
          expect.objectContaining({ capability: 'kv/set', username: 'dashboard', outcome: 'FORBIDDEN' }),
          expect.objectContaining({ capability: 'util/ping', outcome: 'UNAUTHORIZED' }),
        ]),
      )
  })
})

describe('HTTP without credentials on loopback', () => {
  it('admits anonymous callers with the anonymous roles', async () => {
    const sb = await startSecureApp({ overrides: { 'security.anonymousRoles': ['observer'] } })
    try {
      expect((await call(sb.httpUrl, 'GET', '/v4/butlerping')).status).toBe(403)
      const open = await startSecureApp()
      try {
        expect((await call(open.httpUrl, 'GET', '/v4/butlerping')).status).toBe(200)
      } finally {
        await open.stop()
      }
    } finally {
      await sb.stop()
    }
  })
})
