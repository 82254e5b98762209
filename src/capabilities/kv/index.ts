import { defineModule } from '../../core/capability.js'
import type { KvState } from './context.js'
import { startMirror } from './mirror.js'
import { kvExists, kvGet, kvKeys, kvNamespaces } from './read.js'
import { configSchema, mirrorSchema, type KvConfig } from './schema.js'
import { KvStore } from './store.js'
import { kvDelete, kvDeleteNamespace, kvSet } from './write.js'

export default defineModule<KvState, KvConfig>({
  area: 'kv',
  summary: 'Key-value store with namespaces and TTL, durable across restarts, mirrored as retained state',
  configSchema,
  needs: ['store'],
  async setup({ config, services, bus, topics, log, metrics }) {
    const store = await KvStore.open(services.store, config)
    metrics.gauge('sensebus_kv_keys', 'Live keys over all namespaces', () => store.stats().keys)
    metrics.gauge(
      'sensebus_kv_bytes',
      'Bytes of namespaces, keys and values (what kv.maxBytes limits)',
      () => store.stats().bytes,
    )
    metrics.gauge('sensebus_kv_namespaces', 'Namespaces holding at least one key', () => store.stats().namespaces)
    const state: KvState = { store, config }
    if (config.mirror) state.stopMirror = await startMirror(store, bus, topics, log, config.mirrorMaxValueBytes)
    return state
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
