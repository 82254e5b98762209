import { randomUUID } from 'node:crypto'
import type { BusMessage, PublishOptions, RequestOptions } from '../core/bus.js'
import { type Envelope, fail, isEnvelope, pickTransaction, type Transaction } from '../core/envelope.js'
import type { Topics } from '../core/topics.js'

type Publish = (topic: string, payload: Buffer, opts: PublishOptions) => Promise<void>
type Subscribe = (filter: string, handler: (msg: BusMessage) => void) => Promise<() => Promise<void>>

interface Pending {
  transaction: Transaction
  resolve(env: Envelope): void
  timer: NodeJS.Timeout
}

/**
 * Request/response over MQTT 3.1.1 (Aedes has no MQTT 5 correlation data): one private reply topic
 * per bus, and a transaction per request matched in a pending map. Shared by both bus adapters.
 */
export class Requester {
  private readonly pending = new Map<string, Pending>()
  private unsubscribe: (() => Promise<void>) | undefined
  private ready: Promise<void> | undefined
  private counter = 0

  constructor(
    private readonly busId: string,
    private readonly topics: Topics,
    private readonly publish: Publish,
    private readonly subscribe: Subscribe,
    private readonly defaultTimeoutMs: number,
  ) {}

  async request<T>(capability: string, body: Record<string, unknown>, opts: RequestOptions = {}): Promise<Envelope<T>> {
    await this.listen()
    const transaction = opts.transaction ?? `${this.busId}-${++this.counter}-${randomUUID().slice(0, 8)}`
    // Answers are matched as text (7 and "7" are one request), the envelope keeps the caller's type.
    const key = String(transaction)
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs
    const replyTo = this.topics.reply(this.busId, capability)
    const answer = new Promise<Envelope>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(key)
        resolve(fail(transaction, 'TIMEOUT', `No response to '${capability}' within ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(key, { transaction, resolve, timer })
    })
    const payload = Buffer.from(JSON.stringify({ ...body, transaction, replyTo }))
    try {
      await this.publish(this.topics.request(capability), payload, { qos: 1, identity: opts.identity })
    } catch (err) {
      this.settle(key, fail(transaction, 'INTERNAL', `Could not publish the request: ${(err as Error).message}`))
    }
    return answer as Promise<Envelope<T>>
  }

  async close(): Promise<void> {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer)
      p.resolve(fail(p.transaction, 'TIMEOUT', 'The bus closed before a response came'))
    }
    this.pending.clear()
    await this.unsubscribe?.()
  }

  private listen(): Promise<void> {
    this.ready ??= this.subscribe(this.topics.replyFilter(this.busId), (msg) => this.onReply(msg)).then((off) => {
      this.unsubscribe = off
    })
    return this.ready
  }

  private onReply(msg: BusMessage): void {
    let parsed: unknown
    try {
      parsed = JSON.parse(msg.payload.toString())
    } catch {
      return
    }
    const transaction = pickTransaction(parsed)
    if (transaction !== undefined && isEnvelope(parsed)) this.settle(String(transaction), parsed)
  }

  private settle(transaction: string, env: Envelope): void {
    const p = this.pending.get(transaction)
    if (!p) return
    this.pending.delete(transaction)
    clearTimeout(p.timer)
    p.resolve(env)
  }
}
