import { buildAsyncApi, topicEntries } from '../catalogue/generate.js'
import type { Capability, CapabilityModule } from '../core/capability.js'
import { buildOpenApi } from '../http/openapi.js'
import { VERSION } from '../version.js'
import { DOCS_STYLE, renderDocsPage } from './docs-page.js'

/**
 * What the running service serves about itself: the OpenAPI and AsyncAPI documents of the enabled
 * capabilities under the configured base topic, and the browsable page. Built once at start-up.
 */
export function apiDescription(
  modules: CapabilityModule[],
  capabilities: Capability[],
  baseTopic: string,
): { openapi: string; asyncapi: string; docsPage: string; docsStyle: string } {
  const openapi = buildOpenApi(capabilities, VERSION)
  const entries = topicEntries(modules, baseTopic)
  // The broker's address depends on how the client reaches this host: the server names the protocol only.
  const servers = { sensebus: { host: 'localhost:1883', protocol: 'mqtt', description: 'This sensebus' } }
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
