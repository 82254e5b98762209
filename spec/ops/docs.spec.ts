import { Parser } from '@asyncapi/parser'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { securityOverrides, TOKENS } from '../security/harness.js'

describe('GET /api/docs', () => {
  let sb: TestApp
  beforeAll(async () => {
    sb = await startTestApp({ overrides: { baseTopic: 'qlik' } })
  })
  afterAll(() => sb?.stop({ clean: true }))

  it('serves a page listing HTTP operations and MQTT topics, with a CSP that allows no script', async () => {
    const res = await fetch(`${sb.httpUrl}/api/docs`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    const csp = res.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("default-src 'none'")
    expect(csp).not.toContain('script-src')
    const html = await res.text()
    expect(html).not.toMatch(/<script/i)
    expect(html).not.toMatch(/\son\w+=/i)
    expect(html).not.toMatch(/https?:\/\//)
    expect(html).toContain('<code>/v4/keyvalues/{namespace}</code>')
    expect(html).toContain('<code>/api/v1/kv/set</code>')
    // The topics of this instance, under its base topic.
    expect(html).toContain('<code>qlik/request/kv/set</code>')
    const css = await fetch(`${sb.httpUrl}/api/docs/style.css`)
    expect(css.status).toBe(200)
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8')
  })

  it('serves the OpenAPI document', async () => {
    const res = await fetch(`${sb.httpUrl}/api/openapi.json`)
    expect(res.status).toBe(200)
    expect((await res.json()).components.securitySchemes.bearerToken.scheme).toBe('bearer')
  })

  it('serves the AsyncAPI document of this instance, valid on its own', async () => {
    const res = await fetch(`${sb.httpUrl}/api/asyncapi.json`)
    expect(res.status).toBe(200)
    const text = await res.text()
    const doc = JSON.parse(text)
    expect(doc.channels['kv.set.request'].address).toBe('qlik/request/kv/set')
    // The listeners this instance really has.
    expect(doc.servers.mqtt).toMatchObject({ protocol: 'mqtt', host: `127.0.0.1:${new URL(sb.mqttUrl).port}` })
    // Parsed last: the parser holds the event loop for seconds, long enough for kept-alive sockets to expire.
    const { diagnostics } = await new Parser().parse(text)
    expect(diagnostics.filter((d) => d.severity === 0).map((d) => d.message)).toEqual([])
  })
})

describe('http.docs settings', () => {
  let off: TestApp
  let guarded: TestApp
  beforeAll(async () => {
    off = await startTestApp({ overrides: { 'http.docs.enabled': false } })
    guarded = await startTestApp({ overrides: await securityOverrides({ 'http.docs.auth': 'token' }) })
  })
  afterAll(async () => {
    await off?.stop({ clean: true })
    await guarded?.stop({ clean: true })
  })

  it('answers 404 when off and 401 without a token when protected', async () => {
    for (const path of ['/api/docs', '/api/openapi.json', '/api/asyncapi.json'])
      expect((await fetch(`${off.httpUrl}${path}`)).status, path).toBe(404)
    expect((await fetch(`${guarded.httpUrl}/api/openapi.json`)).status).toBe(401)
    const ok = await fetch(`${guarded.httpUrl}/api/docs`, { headers: { authorization: `Bearer ${TOKENS.watcher}` } })
    expect(ok.status).toBe(200)
  })
})
