import { Ajv } from 'ajv'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from '../helpers/app.js'

type Response = { content?: Record<string, { schema: object }> }
type OpenApi = { paths: Record<string, { get?: { responses: Record<string, Response> } }> }

const fetchDoc = async (sb: TestApp) => (await (await fetch(`${sb.httpUrl}/api/openapi.json`)).json()) as OpenApi

/** The served OpenAPI document describes /health and /metrics as they answer. */
describe('OpenAPI: GET /health and GET /metrics', () => {
  let sb: TestApp
  let quiet: TestApp
  beforeAll(async () => {
    sb = await startTestApp()
    quiet = await startTestApp({ overrides: { 'http.metrics.enabled': false } })
  })
  afterAll(async () => {
    await sb?.stop({ clean: true })
    await quiet?.stop({ clean: true })
  })

  it("documents /health with a schema that the live answer satisfies, and 503 for 'not ready'", async () => {
    const doc = await fetchDoc(sb)
    const responses = doc.paths['/health']?.get?.responses ?? {}
    expect(Object.keys(responses).sort()).toEqual(['200', '401', '503'])
    const schema = responses['200']?.content?.['application/json']?.schema ?? {}
    const validate = new Ajv({ strict: true }).compile(schema)
    const res = await fetch(`${sb.httpUrl}/health`)
    expect(res.status).toBe(200)
    const body = await res.json()
    expect(validate(body), JSON.stringify(validate.errors)).toBe(true)
    expect(validate({ ...body, status: 'fine' })).toBe(false)
    expect(responses['503']?.content?.['application/json']?.schema).toEqual(schema)

    const live = doc.paths['/health/live']?.get?.responses['200']?.content?.['application/json']?.schema ?? {}
    expect(new Ajv({ strict: true }).compile(live)(await (await fetch(`${sb.httpUrl}/health/live`)).json())).toBe(true)
  })

  it('documents /metrics as Prometheus text, and leaves it out when http.metrics is off', async () => {
    const doc = await fetchDoc(sb)
    expect(Object.keys(doc.paths['/metrics']?.get?.responses['200']?.content ?? {})).toEqual(['text/plain'])
    const res = await fetch(`${sb.httpUrl}/metrics`)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/)
    expect(await res.text()).toContain('# TYPE sensebus_requests_total counter')

    const off = await fetchDoc(quiet)
    expect(off.paths['/metrics']).toBeUndefined()
    expect(off.paths['/health']).toBeDefined()
    expect((await fetch(`${quiet.httpUrl}/metrics`)).status).toBe(404)
  })
})
