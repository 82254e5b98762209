import { randomUUID } from 'node:crypto'
import type { Socket } from 'node:net'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import {
  type Bus,
  type BusMessage,
  type MessageHandler,
  type PublishOptions,
  type RequestOptions,
  toPayload,
} from '../core/bus.js'
import type { Envelope } from '../core/envelope.js'
import { topicMatches, type Topics } from '../core/topics.js'
import type { Logger } from '../log.js'
import { Requester } from './requester.js'

export interface MqttBusOptions {
  url: string
  /** The bus id (reply topics, per-instance bridge state); generated when absent. */
  id?: string
  username?: string
  password?: string
  clientId?: string
  /** Retained message the broker publishes for us if we vanish (sense/bridge/state offline). */
  will?: { topic: string; payload: string }
  /** Extra mqtt.js options (TLS material for mqtts/wss). */
  connectOptions?: IClientOptions
  defaultTimeoutMs: number
  log: Logger
}

export const newBusId = () => `sb-${randomUUID().slice(0, 8)}`

/** Nagle off on every (re)connect: mqtt.js has no option for it (MQTT-STACK.md A3, B5). */
export function disableNagle(client: MqttClient): void {
  const set = () => (client.stream as Partial<Socket> | undefined)?.setNoDelay?.(true)
  client.on('connect', set)
  set()
}

/** The bus on an external broker (Mosquitto, EMQX, ...) through one mqtt.js client. */
export class MqttBus implements Bus {
  readonly id: string
  private readonly subs = new Map<string, Set<MessageHandler>>()
  private readonly requester: Requester
  /** Where answers to this bus' own requests go (the HTTP shim's, the scheduler's). */
  private readonly ownReplies: string

  private constructor(
    private readonly client: MqttClient,
    readonly topics: Topics,
    defaultTimeoutMs: number,
    /** How to open a short-lived second connection for `retained` (same broker, same credentials). */
    private readonly snapshotOptions: { url: string; options: IClientOptions },
    id: string | undefined,
  ) {
    this.id = id ?? newBusId()
    this.ownReplies = `${topics.area('reply', this.id)}/`
    client.on('message', (topic, payload, packet) => {
      // Live messages only, as on the embedded bus: a retained copy replayed on SUBSCRIBE is old news
      // ([MQTT-3.3.1-9]: live forwards never carry the retain flag).
      if (packet.retain) return
      this.deliverLocally({ topic, payload, qos: packet.qos, retain: packet.retain })
    })
    this.requester = new Requester(
      this.id,
      topics,
      (t, p, o) => this.publish(t, p, o),
      (f, h) => this.subscribe(f, h),
      defaultTimeoutMs,
    )
  }

  static async connect(opts: MqttBusOptions, topics: Topics): Promise<MqttBus> {
    const clientId = opts.clientId ?? `sensebus-${randomUUID().slice(0, 12)}`
    const credentials = {
      ...(opts.username !== undefined ? { username: opts.username } : {}),
      ...(opts.password !== undefined ? { password: opts.password } : {}),
    }
    const client = await mqtt.connectAsync(opts.url, {
      clientId,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      ...credentials,
      ...(opts.will
        ? { will: { topic: opts.will.topic, payload: Buffer.from(opts.will.payload), qos: 1, retain: true } }
        : {}),
      ...opts.connectOptions,
    })
    disableNagle(client)
    client.on('error', (err) => opts.log.warn({ err: err.message }, 'external broker error'))
    client.on('reconnect', () => opts.log.info('reconnecting to the external broker'))
    const snapshotOptions = {
      url: opts.url,
      options: {
        clientId,
        clean: true,
        reconnectPeriod: 0,
        connectTimeout: 10_000,
        ...credentials,
        ...opts.connectOptions,
      },
    }
    return new MqttBus(client, topics, opts.defaultTimeoutMs, snapshotOptions, opts.id)
  }

  get connected(): boolean {
    return this.client.connected
  }

  async publish(topic: string, payload: string | Buffer | object, opts: PublishOptions = {}): Promise<void> {
    // An identity cannot cross the external broker (it would arrive as anyone's message), so a request
    // made in this process on someone's behalf (the HTTP shim, the scheduler) is served right here,
    // and so is its answer: an HTTP caller then gets one even while the broker is unreachable.
    const ownReply = topic.startsWith(this.ownReplies)
    if (opts.identity || ownReply) {
      const msg: BusMessage = {
        topic,
        payload: toPayload(payload),
        qos: opts.qos ?? 1,
        retain: false,
        ...(opts.identity ? { identity: opts.identity } : {}),
      }
      this.deliverLocally(msg)
      return
    }
    await this.client.publishAsync(topic, toPayload(payload), { qos: opts.qos ?? 1, retain: opts.retain ?? false })
  }

  private deliverLocally(msg: BusMessage): void {
    for (const [filter, handlers] of this.subs) {
      if (!topicMatches(stripShare(filter), msg.topic)) continue
      for (const h of handlers) setImmediate(h, msg)
    }
  }

  async subscribe(filter: string, handler: MessageHandler): Promise<() => Promise<void>> {
    let set = this.subs.get(filter)
    if (!set) {
      set = new Set()
      this.subs.set(filter, set)
      const granted = await this.client.subscribeAsync(filter, { qos: 1 })
      if (granted.some((g) => g.qos === 128)) {
        this.subs.delete(filter)
        throw new Error(`The broker refused the subscription to '${filter}'`)
      }
    }
    set.add(handler)
    return async () => {
      const current = this.subs.get(filter)
      if (!current) return
      current.delete(handler)
      if (current.size === 0) {
        this.subs.delete(filter)
        if (this.client.connected) await this.client.unsubscribeAsync(filter)
      }
    }
  }

  /**
   * MQTT has no "list retained" call: subscribe, take what arrives flagged retained until the broker
   * has been quiet for `settleMs`, then unsubscribe.
   */
  /**
   * On a connection of its own: a subscription of the bus' client that overlaps `filter` would make
   * the broker replay only part of the retained set to a second SUBSCRIBE (seen with Mosquitto 2).
   */
  async retained(filter: string, settleMs = 250): Promise<Array<{ topic: string; payload: Buffer }>> {
    const out: Array<{ topic: string; payload: Buffer }> = []
    let quiet: () => void = () => undefined
    let timer: NodeJS.Timeout | undefined
    const settled = new Promise<void>((resolve) => (quiet = resolve))
    const arm = () => {
      clearTimeout(timer)
      timer = setTimeout(quiet, settleMs)
    }
    // A client id of its own per snapshot: two at once must not take each other over.
    const { url, options } = this.snapshotOptions
    const reader = await mqtt.connectAsync(url, {
      ...options,
      clientId: `${options.clientId}-r${randomUUID().slice(0, 6)}`,
    })
    reader.on('error', () => undefined)
    reader.on('message', (topic, payload, packet) => {
      if (!packet.retain || !topicMatches(filter, topic)) return
      out.push({ topic, payload })
      arm()
    })
    try {
      await reader.subscribeAsync(filter, { qos: 1 })
      arm()
      await settled
    } finally {
      clearTimeout(timer)
      await reader.endAsync().catch(() => undefined)
    }
    return out
  }

  onReconnect(listener: () => void): () => void {
    // The client is connected before the bus exists, so every later 'connect' is a reconnect.
    const onConnect = () => listener()
    this.client.on('connect', onConnect)
    return () => this.client.off('connect', onConnect)
  }

  request<T>(capability: string, body: Record<string, unknown>, opts?: RequestOptions): Promise<Envelope<T>> {
    return this.requester.request<T>(capability, body, opts)
  }

  async close(): Promise<void> {
    await this.requester.close()
    await this.client.endAsync()
  }
}

/** `$share/<group>/<filter>` delivers to one member of the group; matching uses the plain filter. */
function stripShare(filter: string): string {
  return filter.startsWith('$share/') ? filter.split('/').slice(2).join('/') : filter
}
