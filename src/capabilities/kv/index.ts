import { join } from 'node:path'
import { defineModule } from '../../core/capability.js'
import { startMirror } from './mirror.js'
import { kvExists, kvGet, kvKeys, kvNamespaces } from './read.js'
import { configSchema, mirrorPayload, type KvConfig } from './schema.js'
import { KvStore } from './store.js'
import type { KvState } from './context.js'
import { kvDelete, kvDeleteNamespace, kvSet } from './write.js'

export default defineModule<KvState, KvConfig>({
  area: 'kv',
  summary: 'Key-value store with namespaces and TTL, durable across restarts, mirrored as retained state',
  configSchema,
  async setup({ config, dataDir, bus, topics, log }) {
    const store = await KvStore.open(join(dataDir), {
      maxKeysPerNamespace: config.maxKeysPerNamespace,
      sync: config.sync,
    })
    const state: KvState = { store, config }
    if (config.mirror) state.stopMirror = await startMirror(store, bus, topics, log)
    return state
  },
  async teardown(state) {
    state.stopMirror?.()
    await state.store.close()
  },
  capabilities: [kvSet, kvGet, kvExists, kvDelete, kvDeleteNamespace, kvNamespaces, kvKeys],
  publishes: [
    {
      topic: 'state/kv/{namespace}/{key}',
      kind: 'state',
      summary: 'Retained mirror of each key (namespace and key URI-encoded); cleared on delete and expiry',
      schema: mirrorPayload,
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
