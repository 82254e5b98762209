import { type Static, Type } from '@sinclair/typebox'
import type { Bus } from '../../core/bus.js'
import { event } from '../../core/envelope.js'
import { CapabilityError } from '../../core/errors.js'
import { closed } from '../../core/schema.js'
import type { Topics } from '../../core/topics.js'
import type { Logger } from '../../log.js'
import type { ChatKind, ChatService } from '../../services/chat/index.js'
import type { Outbox, OutboxItem, Outcome } from '../../services/outbox/index.js'

/** What slack/post and teams/post answer: the receipt id and where the post stands. */
export const postResult = closed({
  deliveryId: Type.String({ description: 'Outbox id; receipts are published on event/<area>/<deliveryId>/…' }),
  webhook: Type.String({ description: 'The configured webhook name the post goes to (never its URL)' }),
  state: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('dead')], {
    description: 'pending: durably queued (and retried); delivered; dead: refused for good or out of attempts',
  }),
  attempts: Type.Integer({ minimum: 0 }),
  error: Type.Optional(Type.String({ description: 'The last failure, when there was one' })),
})
export type PostResult = Static<typeof postResult>

export const receiptSchema = Type.Object({
  deliveryId: Type.String(),
  capability: Type.String(),
  webhook: Type.String(),
  outcome: Type.Union([Type.Literal('delivered'), Type.Literal('retrying'), Type.Literal('dead')]),
  attempts: Type.Integer(),
  error: Type.Optional(Type.String()),
  transaction: Type.Optional(Type.String()),
})

/** A webhook name as config keys allow it; the request names it, never a URL (no posting anywhere asked). */
export const webhookName = Type.String({
  pattern: '^[A-Za-z0-9_-]{1,64}$',
  description: 'A name under chat.<slack|teams>.webhooks; `default` when omitted',
})
export const idempotencyKey = Type.String({
  minLength: 1,
  maxLength: 200,
  description: 'Posting the same key again (within outbox.retainMs) keeps one delivery and answers its state',
})

export interface PostOptions {
  webhook: string | undefined
  transaction: string | undefined
  key: string | undefined
  wait: boolean
  /** How long `wait: true` holds the answer before it says `pending`. */
  waitMs: number
  signal: AbortSignal
}

const LABEL: Record<ChatKind, string> = { slack: 'Slack', teams: 'Teams' }

/**
 * Posts made by one capability (slack/post or teams/post) on the chat service's outbox kinds: queued
 * durably before the answer, receipts published for every attempt's outcome, and `wait: true` held
 * until the post is delivered or dead. Alert posts share the outbox kinds; their receipts are the
 * alert module's (told apart by `meta.capability`).
 */
export class ChatPosts {
  private readonly waiters = new Map<string, Set<(item: OutboxItem) => void>>()
  private readonly source: string

  constructor(
    private readonly deps: {
      kind: ChatKind
      capability: string
      chat: ChatService
      outbox: Outbox
      bus: Bus
      topics: Topics
      log: Logger
    },
  ) {
    this.source = `sensebus/${deps.bus.id}`
  }

  /** Starts publishing receipts; the function it returns stops it. */
  follow(): () => void {
    return this.deps.chat.onOutcome((item, outcome) => {
      if (item.kind !== this.deps.kind || item.meta.capability !== this.deps.capability) return
      if (outcome !== 'retrying') for (const w of this.waiters.get(item.id) ?? []) w(item)
      void this.publishReceipt(item, outcome).catch((err: unknown) =>
        this.deps.log.warn({ err, deliveryId: item.id }, 'could not publish a post receipt'),
      )
    })
  }

  async post(enqueue: (meta: Record<string, unknown>) => Promise<OutboxItem>, o: PostOptions): Promise<PostResult> {
    const { chat, kind } = this.deps
    const webhook = o.webhook ?? 'default'
    if (o.webhook !== undefined && !chat.resolvable(kind, { webhook }))
      throw new CapabilityError(
        'NOT_FOUND',
        `No ${LABEL[kind]} webhook '${webhook}': set chat.${kind}.webhooks.${webhook}`,
      )
    const meta = {
      capability: this.deps.capability,
      webhook,
      ...(o.transaction !== undefined ? { transaction: o.transaction } : {}),
      ...(o.key !== undefined ? { key: o.key } : {}),
    }
    const item = await enqueue(meta)
    const final = o.wait && item.state === 'pending' ? await this.settled(item.id, o.waitMs, o.signal) : item
    if (o.wait && final.state === 'dead') {
      throw new CapabilityError(
        'DELIVERY_FAILED',
        `The post was not delivered: ${final.lastError ?? 'no reason given'}`,
        {
          details: { deliveryId: final.id, webhook, attempts: final.attempts, error: final.lastError ?? null },
        },
      )
    }
    return resultOf(final, webhook)
  }

  /** The item once it is delivered or dead, or as it stands when the wait runs out. */
  private async settled(id: string, waitMs: number, signal: AbortSignal): Promise<OutboxItem> {
    let done: (item?: OutboxItem) => void = () => undefined
    const outcome = new Promise<OutboxItem | undefined>((resolve) => (done = resolve))
    const set = this.waiters.get(id) ?? new Set()
    set.add(done)
    this.waiters.set(id, set)
    const timer = setTimeout(() => done(), waitMs)
    const onAbort = () => done()
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      // The delivery may have ended between the enqueue and the waiter above.
      const now = await this.deps.outbox.get(id)
      if (now && now.state !== 'pending') return now
      return (await outcome) ?? (await this.deps.outbox.get(id)) ?? missing(id)
    } finally {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      set.delete(done)
      if (set.size === 0) this.waiters.delete(id)
    }
  }

  private async publishReceipt(item: OutboxItem, outcome: Outcome): Promise<void> {
    const { bus, topics, kind } = this.deps
    const data: Static<typeof receiptSchema> = {
      deliveryId: item.id,
      capability: this.deps.capability,
      webhook: String(item.meta.webhook ?? 'default'),
      outcome,
      attempts: item.attempts,
      ...(item.lastError && outcome !== 'delivered' ? { error: item.lastError } : {}),
      ...(typeof item.meta.transaction === 'string' ? { transaction: item.meta.transaction } : {}),
    }
    const what = outcome === 'delivered' ? 'delivered' : 'failed'
    await bus.publish(topics.event(kind, item.id, what), event(`sense.${kind}.${what}`, this.source, data), { qos: 1 })
  }
}

function resultOf(item: OutboxItem, webhook: string): PostResult {
  return {
    deliveryId: item.id,
    webhook,
    state: item.state,
    attempts: item.attempts,
    ...(item.lastError ? { error: item.lastError } : {}),
  }
}

function missing(id: string): never {
  throw new CapabilityError('INTERNAL', `Outbox item ${id} vanished`)
}

/** The receipt topics a chat module publishes, for the topic catalogue. */
export function receiptTopics(area: ChatKind) {
  const label = LABEL[area]
  return [
    {
      topic: `event/${area}/{deliveryId}/delivered`,
      kind: 'event' as const,
      summary: `A ${area}/post was accepted by ${label}`,
      schema: receiptSchema,
    },
    {
      topic: `event/${area}/{deliveryId}/failed`,
      kind: 'event' as const,
      summary: `An attempt of a ${area}/post failed: outcome retrying (backoff) or dead (refused or out of attempts)`,
      schema: receiptSchema,
    },
  ]
}
