import type { Static } from '@sinclair/typebox'
import { limit, section } from '../../core/schema.js'
import { defineService } from '../define.js'
import { DurableOutbox } from './outbox.js'
import type { Outbox } from './types.js'

export { DeliveryError, retryAfterMs } from './errors.js'
export type { DeliveryHandler, Outbox, OutboxItem, Outcome } from './types.js'

declare module '../../core/services.js' {
  interface Services {
    outbox: Outbox
  }
}

export const outboxConfigSchema = section({
  maxAttempts: limit(10, 'Attempts per delivery before it moves to dead letters'),
  baseDelayMs: limit(1000, 'First retry delay; each further one doubles (with jitter)'),
  maxDelayMs: limit(300_000, 'Longest delay between two attempts'),
  concurrency: limit(8, 'Deliveries under way at once'),
  timeoutMs: limit(30_000, 'How long one attempt may take'),
  retainMs: limit(7 * 24 * 3600 * 1000, 'How long delivered items and idempotency keys are kept'),
  sharedPollMs: limit(
    1000,
    'Shared store (redis): how often deliveries enqueued or left by other instances are picked up',
  ),
})
export type OutboxConfig = Static<typeof outboxConfigSchema>

export const outboxService = defineService<'outbox', OutboxConfig>({
  name: 'outbox',
  configSchema: outboxConfigSchema,
  needs: ['store'],
  create: ({ config, services, log, bus }) =>
    DurableOutbox.open({
      ...config,
      store: services.store,
      log: log.child({ area: 'outbox' }),
      ...(services.store.shared ? { shared: { instance: bus.id, pollMs: config.sharedPollMs } } : {}),
    }),
  stop: (outbox) => outbox.close(),
})
