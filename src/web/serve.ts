import type { TopicEntry } from '../catalogue/generate.js'
import type { DocumentAnswer, DocumentHandler } from '../http/handler.js'
import { type Asset, mqttBrowserBuild, publicDir, readAssets } from './assets.js'

/** Where the page finds the broker: a fixed URL, or a scheme and port on the page's own host name. */
export type BrokerHint = { url: string } | { scheme: 'ws' | 'wss'; port: number }

export interface WebViewOptions {
  baseTopic: string
  broker: BrokerHint | undefined
  /** The topic catalogue of the enabled capabilities: the request console builds its forms from it. */
  topics: TopicEntry[]
  /** Files to serve instead of src/web/public (tests). */
  dir?: string
}

/**
 * Scripts only from sensebus itself, no inline code, no frames; the page connects to the broker and
 * nothing else. `ws:`/`wss:` stay open because the broker's host is the one the browser used.
 */
function securityHeaders(broker: BrokerHint | undefined): Record<string, string> {
  const connect = broker && 'url' in broker ? new URL(broker.url).origin : 'ws: wss:'
  return {
    'content-security-policy': [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      // mqtt.js runs its keepalive timer in a worker made from a blob, so background tabs keep their pings.
      'worker-src blob:',
      `connect-src 'self' ${connect}`,
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    // Files change with the installed version only; revalidating keeps an upgraded page consistent.
    'cache-control': 'no-cache',
  }
}

const escapeAttr = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string)

/** The broker hint as the page reads it: `wss://{host}:9443` means the host name the page came from. */
function brokerMeta(broker: BrokerHint | undefined): string {
  if (!broker) return ''
  return 'url' in broker ? broker.url : `${broker.scheme}://{host}:${broker.port}`
}

/**
 * `GET /` and `/web/...`: the web view's static files, the mqtt.js browser build and the request
 * catalogue, all prepared at start-up. The page has no endpoint of its own: everything it shows and
 * does goes over MQTT, under the logged-in user's roles.
 */
export function webDocuments(opts: WebViewOptions): Record<string, DocumentHandler> {
  const headers = securityHeaders(opts.broker)
  const files = readAssets(opts.dir ?? publicDir())
  const index = files.get('index.html')
  if (!index) throw new Error('Web view files: index.html is missing')
  const page = index.body
    .toString('utf8')
    .replaceAll('{{broker}}', escapeAttr(brokerMeta(opts.broker)))
    .replaceAll('{{base}}', escapeAttr(opts.baseTopic))
  const catalogue = opts.topics
    .filter((t) => t.kind === 'request')
    .map((t) => ({
      capability: t.topic.slice(`${opts.baseTopic}/request/`.length),
      summary: t.summary,
      schema: t.schema,
    }))
  const serve =
    (asset: Asset | { type: string; body: string }): DocumentHandler =>
    (): DocumentAnswer => ({ type: asset.type, body: asset.body, headers })
  const out: Record<string, DocumentHandler> = {
    '/': serve({ type: 'text/html; charset=utf-8', body: page }),
    '/web/vendor/mqtt.esm.js': serve(mqttBrowserBuild()),
    '/web/catalogue.json': serve({ type: 'application/json; charset=utf-8', body: JSON.stringify(catalogue) }),
  }
  for (const [rel, asset] of files) if (rel !== 'index.html') out[`/web/${rel}`] = serve(asset)
  return out
}
