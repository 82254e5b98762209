import type { IncomingMessage } from 'node:http'
import type { DocumentAnswer, DocumentHandler } from '../http/handler.js'
import type { ApiDocuments } from './api-description.js'
import type { HealthReport } from './health-report.js'
import type { Metrics } from './metrics.js'

export interface EndpointSetting {
  enabled: boolean
  auth: 'none' | 'token'
}

export interface OpsEndpointOptions {
  health: EndpointSetting
  metrics: EndpointSetting
  docs: EndpointSetting
  requireToken(req: IncomingMessage, endpoint: string): Promise<void>
  report(): Promise<HealthReport>
  registry: Metrics
  /** The API description, built on the first request for it (about 2 MB an instance may never be asked for). */
  describe(): ApiDocuments
}

const JSON_TYPE = 'application/json; charset=utf-8'
/** The docs page runs no script at all and loads nothing from elsewhere. */
const DOCS_HEADERS = {
  'content-security-policy':
    "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
}

/** `/health`, `/metrics` and the API description: each can be off, open, or behind an API token. */
export function opsEndpoints(opts: OpsEndpointOptions): Record<string, DocumentHandler> {
  const out: Record<string, DocumentHandler> = {}
  const add = (setting: EndpointSetting, path: string, serve: () => DocumentAnswer | Promise<DocumentAnswer>) => {
    if (!setting.enabled) return
    out[path] =
      setting.auth === 'token'
        ? async (req) => {
            await opts.requireToken(req, path)
            return serve()
          }
        : serve
  }
  const noStore = { 'cache-control': 'no-store' }
  add(opts.health, '/health', async () => {
    const report = await opts.report()
    return { status: report.ready ? 200 : 503, type: JSON_TYPE, body: JSON.stringify(report), headers: noStore }
  })
  // Liveness: the process answers HTTP. Cheap, never probes anything (a hung store must not get the process restarted).
  add(opts.health, '/health/live', () => ({ type: JSON_TYPE, body: '{"live":true}', headers: noStore }))
  add(opts.metrics, '/metrics', async () => ({ ...(await opts.registry.text()), headers: noStore }))
  add(opts.docs, '/api/openapi.json', () => ({ type: JSON_TYPE, body: opts.describe().openapi }))
  add(opts.docs, '/api/asyncapi.json', () => ({ type: JSON_TYPE, body: opts.describe().asyncapi }))
  add(opts.docs, '/api/docs', () => ({
    type: 'text/html; charset=utf-8',
    body: opts.describe().docsPage,
    headers: DOCS_HEADERS,
  }))
  add(opts.docs, '/api/docs/style.css', () => ({
    type: 'text/css; charset=utf-8',
    body: opts.describe().docsStyle,
    headers: DOCS_HEADERS,
  }))
  return out
}
