import { type Static, Type } from '@sinclair/typebox'
import { limit, section } from '../../core/schema.js'
import type { Store } from '../../core/store.js'
import { defineService } from '../define.js'
import { LevelStore } from './level-store.js'

declare module '../../core/services.js' {
  interface Services {
    store: Store
  }
}

export const storeConfigSchema = section({
  backend: Type.Literal('level', {
    default: 'level',
    description: 'Where durable state lives (level: <dataDir>/store)',
  }),
  sync: Type.Boolean({
    default: true,
    description: 'fsync each commit before acknowledging it (durable across power loss, not only crashes)',
  }),
  cacheBytes: limit(64 * 1024 * 1024, 'Memory for recently used values of read-heavy collections (the KV store)'),
})
export type StoreConfig = Static<typeof storeConfigSchema>

export const storeService = defineService<'store', StoreConfig>({
  name: 'store',
  configSchema: storeConfigSchema,
  create: ({ config, dataDir, log }) =>
    LevelStore.open({
      dir: dataDir,
      sync: config.sync,
      cacheBytes: config.cacheBytes,
      log: log.child({ area: 'store' }),
    }),
  stop: (store) => store.close(),
})
