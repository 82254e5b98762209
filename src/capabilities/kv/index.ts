import { defineModule } from '../../core/capability.js'
import type { ModuleMetrics } from '../../core/metrics.js'
import type { KvState } from './context.js'
import { KvMirror } from './mirror.js'
import { kvExists, kvGet, kvKeys, kvNamespaces } from './read.js'
import { configSchema, mirrorSchema, type KvConfig } from './schema.js'
import { KvStore } from './store.js'
import { kvDelete, kvDeleteNamespace, kvSet } from './write.js'

export default defineModule<KvState, KvConfig>({
  area: 'kv',
  summary: 'Key-value store with namespaces and TTL, durable across restarts, mirrored as retained state',
  configSchema,
  needs: ['store'],
  async setup({ config, services, bus, topics, log, dataDir, metrics }) {
    if (!config.mirror)
      return withMetrics({ store: await KvStore.open(services.store, config, { dataDir, log }), config }, metrics)
    // The mirror is checked against the store in the pass that loads it: one read of the store at start-up.
    const mirror = new KvMirror(bus, topics, log, config.mirrorMaxValueBytes)
    await mirror.snapshot()
    const store = await KvStore.open(services.store, config, {
      dataDir,
      log,
      visit: mirror.visit,
      listener: mirror.onChange,
    })
    return withMetrics({ store, config, stopMirror: await mirror.follow(store) }, metrics)
  },
  async teardown(state) {
    state.stopMirror?.()
    state.store.close()
  },
  capabilities: [kvSet, kvGet, kvExists, kvDelete, kvDeleteNamespace, kvNamespaces, kvKeys],
  publishes: [
    {
      topic: 'state/kv/{namespace}/{key}',
      kind: 'state',
      summary: 'Retained mirror of each key (namespace and key URI-encoded); cleared on delete and expiry',
      schema: mirrorSchema,
      example: {
        namespace: 'etl',
        key: 'lastRun',
        value: '2026-11-28',
        expiresAt: null,
        updatedAt: '2026-11-28T03:00:00.000Z',
      },
    },
  ],
})

/** The store's size as gauges, read only when /metrics is scraped. */
function withMetrics(state: KvState, metrics: ModuleMetrics): KvState {
  const { store } = state
  metrics.gauge('sensebus_kv_keys', 'Live keys over all namespaces', () => store.stats().keys)
  metrics.gauge(
    'sensebus_kv_bytes',
    'Bytes of namespaces, keys and values (what kv.maxBytes limits)',
    () => store.stats().bytes,
  )
  metrics.gauge('sensebus_kv_namespaces', 'Namespaces holding at least one key', () => store.stats().namespaces)
  return state
}
