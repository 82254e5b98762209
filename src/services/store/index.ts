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
  backend: Type.Union([Type.Literal('level'), Type.Literal('redis')], {
    default: 'level',
    description:
      'Where durable state lives: level (<dataDir>/store, one instance) or redis (shared by several instances)',
  }),
  sync: Type.Boolean({
    default: true,
    description: 'fsync each commit before acknowledging it (durable across power loss, not only crashes)',
  }),
  cacheBytes: limit(64 * 1024 * 1024, 'Memory for recently used values of read-heavy collections (the KV store)'),
  redis: section({
    url: Type.String({
      pattern: '^rediss?://',
      default: 'redis://127.0.0.1:6379',
      description: 'backend redis: redis://[user:password@]host:port[/db], rediss:// for TLS',
    }),
    keyPrefix: Type.String({
      pattern: '^[A-Za-z0-9_.:-]{1,64}$',
      default: 'sensebus:',
      description: 'In front of every key: one Redis can serve several sites (give each its own prefix)',
    }),
    expiryPollMs: limit(500, 'How often an instance looks for deadlines written by the others (expiry latency)'),
    commandTimeoutMs: limit(5000, 'How long a command may wait for Redis before the write or read fails'),
  }),
})
export type StoreConfig = Static<typeof storeConfigSchema>

export const storeService = defineService<'store', StoreConfig>({
  name: 'store',
  configSchema: storeConfigSchema,
  // The Redis backend (and ioredis, ~2 MB of heap) is loaded only by the instances that use it.
  create: async ({ config, dataDir, log }) =>
    config.backend === 'redis'
      ? (await import('./redis-store.js')).RedisStore.open({ ...config.redis, log: log.child({ area: 'store' }) })
      : LevelStore.open({
          dir: dataDir,
          sync: config.sync,
          cacheBytes: config.cacheBytes,
          log: log.child({ area: 'store' }),
        }),
  stop: (store) => store.close(),
})
