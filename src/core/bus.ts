import type { Envelope, Transaction } from './envelope.js'
import type { Identity } from './identity.js'
import type { Topics } from './topics.js'

export interface BusMessage {
  topic: string
  payload: Buffer
  qos: 0 | 1 | 2
  retain: boolean
  /**
   * Who published it: the authenticated MQTT client, or the identity an in-process sender attached.
   * Undefined only on an external broker for messages whose sender sensebus cannot know.
   */
  identity?: Identity | undefined
}

export interface PublishOptions {
  qos?: 0 | 1
  retain?: boolean
  /** The caller an in-process publish speaks for (requests from the HTTP shim, the scheduler, jobs). */
  identity?: Identity | undefined
  /**
   * A retained message published for this user ('' for anonymous) counts against the embedded broker's
   * retained quota (`broker.retained`) as if they had published it over MQTT; beyond it the publish
   * fails LIMIT_EXCEEDED. An external broker applies its own limits.
   */
  retainedBy?: string | undefined
}

export interface RequestOptions {
  timeoutMs?: number
  /** The caller's own correlation id (echoed as given, a number stays a number); one is made up otherwise. */
  transaction?: Transaction
  /** Required in practice: the dispatcher refuses a request nobody stands behind. */
  identity?: Identity
}

/**
 * A handler may return a promise that settles once the message no longer counts against its sender
 * (the dispatcher: once the request is admitted or answered). A client whose unsettled messages pile
 * up is not read until they drain, so a flood slows the flooder and nobody else.
 */
export type MessageHandler = (msg: BusMessage) => void | Promise<unknown>

/**
 * The one messaging surface every part of sensebus uses. Two adapters: the embedded Aedes broker and
 * an mqtt.js client for an external broker.
 *
 * @example
 * const off = await bus.subscribe('sense/event/#', (m) => log.info({ topic: m.topic }, 'event'))
 * await bus.publish('sense/state/x', { a: 1 }, { retain: true })
 * const answer = await bus.request('kv/get', { namespace: 'ns', key: 'k' }, { identity })
 * await off()
 */
export interface Bus {
  readonly id: string
  readonly topics: Topics
  /**
   * Whether a publish reaches the broker now: false while the connection to an external broker is
   * down (a publish would wait in mqtt.js' queue meanwhile) and once the bus is closed.
   */
  readonly connected: boolean
  publish(topic: string, payload: string | Buffer | object, opts?: PublishOptions): Promise<void>
  /**
   * Live messages published after the subscription is active (retained copies are not replayed);
   * the returned function removes it.
   */
  subscribe(filter: string, handler: MessageHandler): Promise<() => Promise<void>>
  /** Retained messages currently held by the broker under a filter (a snapshot, for reconciliation). */
  retained(filter: string): Promise<Array<{ topic: string; payload: Buffer }>>
  /**
   * Called after the connection to an external broker came back, so retained state it lost can be
   * republished. Never fires on the embedded bus, whose broker lives and dies with the process.
   */
  onReconnect(listener: () => void): () => void
  /**
   * Only the embedded broker: takes over the retained messages under `prefix` for an owner that keeps
   * their source of truth and sets them again at each start with the returned function (no publish,
   * no write to the broker's own persistence). Live changes are still published with `retain`.
   */
  ownRetained?(prefix: string): Promise<(topic: string, payload: Buffer) => void>
  /** Publishes a request and resolves with its one response envelope (TIMEOUT envelope if none comes). */
  request<T = unknown>(capability: string, body: Record<string, unknown>, opts?: RequestOptions): Promise<Envelope<T>>
  /**
   * Shutdown, first step: take nothing more from clients, once what was already acknowledged has been
   * routed, so every acknowledged request reaches the dispatcher and gets its answer. Only the
   * embedded broker can; on an external one, other instances take over the shared subscription.
   */
  quiesce?(): Promise<void>
  close(): Promise<void>
}

export function toPayload(payload: string | Buffer | object): Buffer {
  if (Buffer.isBuffer(payload)) return payload
  if (typeof payload === 'string') return Buffer.from(payload)
  return Buffer.from(JSON.stringify(payload))
}
