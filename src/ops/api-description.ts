import { buildAsyncApi, topicEntries } from '../catalogue/generate.js'
import type { Capability, CapabilityModule } from '../core/capability.js'
import { buildOpenApi } from '../http/openapi.js'
import { VERSION } from '../version.js'
import { DOCS_STYLE, renderDocsPage } from './docs-page.js'

/** The listeners the app opened (its `endpoints`). */
type Listeners = Partial<Record<'mqtt' | 'mqtts' | 'ws' | 'wss', { host: string; port: number }>> & {
  brokerUrl?: string
}

export interface ApiDocuments {
  openapi: string
  asyncapi: string
  docsPage: string
  docsStyle: string
}

/**
 * What the running service serves about itself: the OpenAPI and AsyncAPI documents of the enabled
 * capabilities under the configured base topic, and the browsable page.
 */
export function apiDescription(
  modules: CapabilityModule[],
  capabilities: Capability[],
  baseTopic: string,
  endpoints: Listeners,
  ops: { health: boolean; metrics: boolean } = { health: true, metrics: true },
): ApiDocuments {
  const openapi = buildOpenApi(capabilities, VERSION, ops)
  const entries = topicEntries(modules, baseTopic)
  const servers: Record<string, unknown> = {}
  for (const kind of ['mqtt', 'mqtts', 'ws', 'wss'] as const) {
    const l = endpoints[kind]
    if (l) servers[kind] = { host: `${l.host}:${l.port}`, protocol: kind, description: `The embedded broker (${kind})` }
  }
  if (endpoints.brokerUrl) {
    const url = new URL(endpoints.brokerUrl)
    servers.broker = { host: url.host, protocol: url.protocol.replace(':', ''), description: 'The external broker' }
  }
  return {
    openapi: JSON.stringify(openapi),
    asyncapi: JSON.stringify(buildAsyncApi(entries, VERSION, servers)),
    docsPage: renderDocsPage({
      title: 'sensebus API',
      version: VERSION,
      openapi: openapi as { paths: Record<string, Record<string, { summary?: string }>> },
      topics: entries,
    }),
    docsStyle: DOCS_STYLE,
  }
}
