import { defineModule } from '../../core/capability.js'
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
  async setup({ config, services, bus, topics, log, dataDir }) {
    if (!config.mirror) return { store: await KvStore.open(services.store, config, { dataDir, log }), config }
    // The mirror is checked against the store in the pass that loads it: one read of the store at start-up.
    const mirror = new KvMirror(bus, topics, log, config.mirrorMaxValueBytes)
    await mirror.snapshot()
    const store = await KvStore.open(services.store, config, {
      dataDir,
      log,
      visit: mirror.visit,
      listener: mirror.onChange,
    })
    return { store, config, stopMirror: await mirror.follow(store) }
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
