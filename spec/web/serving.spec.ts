import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from '../helpers/app.js'

async function get(url: string): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(url)
  return { status: res.status, headers: res.headers, text: await res.text() }
}

/** Whether a page from `origin` may open MQTT over WebSocket (browsers always send Origin). */
function wsAdmitted(url: string, origin: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, 'mqtt', { origin })
    socket.once('open', () => {
      socket.close()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

describe('the web view is served as static files', () => {
  let sb: TestApp
  beforeAll(async () => {
    sb = await startTestApp()
  })
  afterAll(async () => sb?.stop({ clean: true }))

  it('serves the page with a strict CSP, no inline script, and the broker it should talk to', async () => {
    const page = await get(`${sb.httpUrl}/`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    const csp = page.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("default-src 'none'")
    expect(csp).not.toContain('unsafe-inline')
    expect(page.headers.get('x-content-type-options')).toBe('nosniff')
    const port = sb.app.endpoints.ws?.port
    expect(page.text).toContain(`<meta name="sensebus-broker" content="ws://{host}:${port}">`)
    expect(page.text).toContain('<meta name="sensebus-base" content="sense">')
    // Every script is an external module: nothing for the CSP to allow inline.
    for (const m of page.text.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)) {
      expect(m[1]).toMatch(/src="\/web\//)
      expect(m[2]?.trim()).toBe('')
    }
  })

  it('serves the modules, the installed mqtt.js browser build and the request catalogue', async () => {
    const app = await get(`${sb.httpUrl}/web/js/app.js`)
    expect(app.status).toBe(200)
    expect(app.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    const vendor = await get(`${sb.httpUrl}/web/vendor/mqtt.esm.js`)
    expect(vendor.status).toBe(200)
    expect(vendor.text).toContain('export default')
    const catalogue = await get(`${sb.httpUrl}/web/catalogue.json`)
    const entries = JSON.parse(catalogue.text) as Array<{ capability: string; schema: { properties: object } }>
    expect(entries.map((e) => e.capability)).toContain('kv/set')
    expect(entries.find((e) => e.capability === 'kv/set')?.schema.properties).toHaveProperty('namespace')
    expect((await get(`${sb.httpUrl}/web/nothing.js`)).status).toBe(404)
    expect((await get(`${sb.httpUrl}/web/../package.json`)).status).toBe(404)
  })

  it("lets the page's own loopback origin open MQTT over WebSocket, and no other", async () => {
    const ws = sb.wsUrl as string
    const port = new URL(sb.httpUrl).port
    expect(await wsAdmitted(ws, `http://127.0.0.1:${port}`)).toBe(true)
    expect(await wsAdmitted(ws, `http://localhost:${port}`)).toBe(true)
    expect(await wsAdmitted(ws, 'http://evil.example')).toBe(false)
    expect(await wsAdmitted(ws, `http://127.0.0.1:${Number(port) + 1}`)).toBe(false)
  })
})

describe('web.enabled: false', () => {
  let sb: TestApp
  beforeAll(async () => {
    sb = await startTestApp({ overrides: { 'web.enabled': false } })
  })
  afterAll(async () => sb?.stop({ clean: true }))

  it('serves no page and admits no extra origin', async () => {
    expect((await get(`${sb.httpUrl}/`)).status).toBe(404)
    expect((await get(`${sb.httpUrl}/web/js/app.js`)).status).toBe(404)
    const port = new URL(sb.httpUrl).port
    expect(await wsAdmitted(sb.wsUrl as string, `http://127.0.0.1:${port}`)).toBe(false)
  })
})

describe('web.brokerUrl', () => {
  let sb: TestApp
  beforeAll(async () => {
    sb = await startTestApp({ overrides: { 'web.brokerUrl': 'wss://proxy.example/mqtt' } })
  })
  afterAll(async () => sb?.stop({ clean: true }))

  it('points the page at that broker, and the CSP lets it connect there only', async () => {
    const page = await get(`${sb.httpUrl}/`)
    expect(page.text).toContain('<meta name="sensebus-broker" content="wss://proxy.example/mqtt">')
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self' wss://proxy.example;")
  })
})
