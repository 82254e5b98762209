import { topicEntries } from '../catalogue/generate.js'
import type { Config } from '../config/schema.js'
import type { CapabilityModule } from '../core/capability.js'
import type { DocumentHandler } from '../http/handler.js'
import { isLoopback } from '../security/exposure.js'
import type { Endpoints } from '../startup/bus.js'
import { type BrokerHint, webDocuments } from './serve.js'

/** The broker the page talks to: `web.brokerUrl`, else the embedded wss listener, else ws. */
function brokerHint(config: Config, endpoints: Endpoints): BrokerHint | undefined {
  if (config.web.brokerUrl) return { url: config.web.brokerUrl }
  if (endpoints.wss) return { scheme: 'wss', port: endpoints.wss.port }
  if (endpoints.ws) return { scheme: 'ws', port: endpoints.ws.port }
  return undefined
}

/** The web view's files for the HTTP listener, once the broker's listeners are open. */
export function webViewDocuments(opts: {
  config: Config
  modules: CapabilityModule[]
  endpoints: Endpoints
}): Record<string, DocumentHandler> {
  return webDocuments({
    baseTopic: opts.config.baseTopic,
    broker: brokerHint(opts.config, opts.endpoints),
    topics: topicEntries(opts.modules, opts.config.baseTopic),
  })
}

/**
 * The loopback origins of the HTTP listener (bound to loopback or to every address): that port on
 * this machine is sensebus', so their WebSocket upgrades come from the web view. Any other name users
 * type is unknown here: list it in `broker.ws.origins`.
 */
export function webViewOrigins(host: string, port: number, tls: boolean): string[] {
  if (!isLoopback(host) && !['0.0.0.0', '::'].includes(host)) return []
  const scheme = tls ? 'https' : 'http'
  return ['127.0.0.1', 'localhost', '[::1]'].map((h) => `${scheme}://${h}:${port}`)
}
