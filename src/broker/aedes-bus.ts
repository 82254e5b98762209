import { randomUUID } from 'node:crypto'
import {
  type Bus,
  type BusMessage,
  type MessageHandler,
  type PublishOptions,
  type RequestOptions,
  toPayload,
} from '../core/bus.js'
import type { Envelope } from '../core/envelope.js'
import { CapabilityError } from '../core/errors.js'
import type { Identity } from '../core/identity.js'
import { topicMatches, type Topics } from '../core/topics.js'
import type { EmbeddedBroker } from './embedded-broker.js'
import { Requester } from './requester.js'
import type { RetainedRefusal } from './retained-quota.js'

/**
 * The in-process bus on the embedded broker. Subscriptions hang off Aedes' `published` hook rather
 * than mqemitter so every handler learns who sent the message, and no handler ever holds one of
 * the broker's delivery slots: each runs on its own turn of the event loop.
 */
export class AedesBus implements Bus {
  readonly id = `sb-${randomUUID().slice(0, 8)}`
  private readonly subs = new Set<{ filter: string; handler: MessageHandler }>()
  private readonly requester: Requester
  private readonly detach: () => void
  private closed = false
  /**
   * The identity an in-process sender attached, keyed by the payload buffer it published: Aedes hands
   * the same buffer to the `published` hook, and no client can reach this map.
   */
  private readonly identities = new WeakMap<Buffer, Identity>()

  constructor(
    private readonly broker: EmbeddedBroker,
    readonly topics: Topics,
    defaultTimeoutMs: number,
  ) {
    this.detach = broker.onPublished((packet, sender) => {
      for (const sub of this.subs) {
        if (!topicMatches(sub.filter, packet.topic)) continue
        const identity = sender ?? this.identities.get(packet.payload)
        const msg: BusMessage = identity ? { ...packet, identity } : { ...packet }
        // Counted from now, while it waits its turn, until its handler says it is done with it.
        const settle = sender?.clientId === undefined ? undefined : broker.flow.take(sender.clientId)
        setImmediate(() => {
          const result = sub.handler(msg)
          if (!settle) return
          if (result && typeof (result as Promise<unknown>).then === 'function') {
            ;(result as Promise<unknown>).then(settle, settle)
          } else settle()
        })
      }
    })
    this.requester = new Requester(
      this.id,
      topics,
      (t, p, o) => this.publish(t, p, o),
      (f, h) => this.subscribe(f, h),
      defaultTimeoutMs,
    )
  }

  publish(topic: string, payload: string | Buffer | object, opts: PublishOptions = {}): Promise<void> {
    const body = toPayload(payload)
    if (opts.retain && opts.retainedBy !== undefined) {
      const refused = this.broker.retainedQuota.tryAdmit(opts.retainedBy, topic, body.length)
      if (refused) return Promise.reject(quotaError(opts.retainedBy, refused))
    }
    if (opts.identity) this.identities.set(body, opts.identity)
    const packet = {
      cmd: 'publish' as const,
      topic,
      payload: body,
      qos: opts.qos ?? 1,
      retain: opts.retain ?? false,
      dup: false,
    }
    return new Promise((resolve, reject) => {
      this.broker.aedes.publish(packet, (err?: Error) => (err ? reject(err) : resolve()))
    })
  }

  async subscribe(filter: string, handler: MessageHandler): Promise<() => Promise<void>> {
    const sub = { filter, handler }
    this.subs.add(sub)
    return async () => {
      this.subs.delete(sub)
    }
  }

  retained(filter: string): Promise<Array<{ topic: string; payload: Buffer }>> {
    return this.broker.retained(filter)
  }

  ownRetained(prefix: string): Promise<(topic: string, payload: Buffer) => void> {
    return this.broker.ownRetained(prefix)
  }

  onReconnect(): () => void {
    return () => undefined
  }

  /** The broker lives in this process: a publish reaches it until either is closed. */
  get connected(): boolean {
    return !this.closed && !this.broker.aedes.closed
  }

  request<T>(capability: string, body: Record<string, unknown>, opts?: RequestOptions): Promise<Envelope<T>> {
    return this.requester.request<T>(capability, body, opts)
  }

  quiesce(): Promise<void> {
    return this.broker.quiesce()
  }

  async close(): Promise<void> {
    this.closed = true
    await this.requester.close()
    this.subs.clear()
    this.detach()
  }
}

function quotaError(user: string, refused: RetainedRefusal): CapabilityError {
  const whose = refused.limit.endsWith('PerUser') ? `for ${user ? `user '${user}'` : 'anonymous callers'}` : 'in all'
  return new CapabilityError(
    'LIMIT_EXCEEDED',
    `The broker's retained quota is reached ${whose}: broker.retained.${refused.limit} is ${refused.value}. ` +
      'Clear a retained message (publish an empty one with retain) or raise the limit',
    { details: { limit: `broker.retained.${refused.limit}`, max: refused.value } },
  )
}
