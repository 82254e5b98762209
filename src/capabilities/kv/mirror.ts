import type { Bus } from '../../core/bus.js'
import { topicSegment, type Topics } from '../../core/topics.js'
import type { Logger } from '../../log.js'
import type { KvChange, KvEntry, KvItem, KvStore } from './store.js'

export function mirrorTopic(topics: Topics, namespace: string, key: string): string {
  return topics.state('kv', topicSegment(namespace), topicSegment(key))
}

/** The retained payload of one key; big values are left out so the broker never holds them in memory. */
export function mirrorPayload(namespace: string, key: string, entry: KvEntry, maxValueBytes: number): string {
  const truncated = Buffer.byteLength(entry.value) > maxValueBytes
  return JSON.stringify({
    namespace,
    key,
    value: truncated ? '' : entry.value,
    expiresAt: entry.expiresAt === undefined ? null : new Date(entry.expiresAt).toISOString(),
    updatedAt: new Date(entry.updatedAt).toISOString(),
    ...(truncated ? { truncated: true } : {}),
  })
}

/**
 * A 53-bit stand-in for a payload, so a rebuild holds one number per key whatever the values weigh.
 * Two multiplicative lanes over the UTF-16 units; a changed payload keeping its digest is a 2^-53 chance.
 */
function digest(payload: string): number {
  let a = 0x811c9dc5
  let b = 0x1b873593 ^ payload.length
  for (let i = 0; i < payload.length; i++) {
    const c = payload.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193)
    b = Math.imul(b ^ c, 0x5bd1e995)
  }
  a = Math.imul(a ^ (a >>> 16), 0x85ebca6b) ^ Math.imul(b ^ (b >>> 13), 0xc2b2ae35)
  b = Math.imul(b ^ (b >>> 16), 0x85ebca6b) ^ Math.imul(a ^ (a >>> 13), 0xc2b2ae35)
  return (b >>> 0) * 2 ** 21 + (a >>> 11)
}

/**
 * Mirrors every key as a retained message so systems can watch keys without polling; deletes and
 * expiries clear the retained message. The store stays the source of truth: the mirror is reconciled
 * with it at start-up (MQTT-STACK.md A2: Aedes' own persistence is not relied on for durability),
 * in the same pass that loads the store, rewriting only what differs: an unchanged copy is left
 * alone, since rewriting every value at each start grows the broker's store.
 *
 * Use: `snapshot()`, then `KvStore.open(…, { visit, listener: onChange })`, then `follow(store)`.
 */
export class KvMirror {
  /** Digests of the retained copies not yet matched with a stored key (during a rebuild). */
  private held = new Map<string, number>()
  /** On the embedded broker: sets a copy in memory at start-up, as the store is the copies' truth. */
  private seed: ((topic: string, payload: Buffer) => void) | undefined

  constructor(
    private readonly bus: Bus,
    private readonly topics: Topics,
    private readonly log: Logger,
    private readonly maxValueBytes: number,
  ) {}

  /**
   * Takes note of the retained copies the broker holds now. The embedded broker hands the copies over
   * instead: they are set from the store at each start, which spares the broker persisting every key
   * a second time and reading it all back (100,000 keys: seconds of start-up).
   */
  async snapshot(): Promise<void> {
    this.held = new Map()
    if (this.bus.ownRetained) {
      this.seed = await this.bus.ownRetained(`${this.topics.state('kv')}/`)
      return
    }
    for (const { topic, payload } of await this.bus.retained(this.topics.state('kv', '#'))) {
      if (payload.length > 0) this.held.set(topic, digest(payload.toString()))
    }
  }

  /** Live changes: published after the write is durable, before it is acknowledged. */
  readonly onChange = (change: KvChange): Promise<void> =>
    this.publish(
      mirrorTopic(this.topics, change.namespace, change.key),
      change.kind === 'set' ? mirrorPayload(change.namespace, change.key, change.entry, this.maxValueBytes) : '',
    )

  /** Compares one stored entry with its retained copy (start-up: nothing else writes yet). */
  readonly visit = async ({ namespace, key, entry }: KvItem): Promise<void> => {
    const topic = mirrorTopic(this.topics, namespace, key)
    const payload = mirrorPayload(namespace, key, entry, this.maxValueBytes)
    if (this.seed) return this.seed(topic, Buffer.from(payload))
    const held = this.held.get(topic)
    this.held.delete(topic)
    if (held !== digest(payload)) await this.publish(topic, payload)
  }

  /**
   * Ends a rebuild: what is left are retained copies of keys the store does not hold (a crash between
   * a delete and its clear, or a wiped data dir), cleared. Then follows broker reconnects.
   */
  async follow(store: KvStore): Promise<() => void> {
    await this.clearLeftovers(store)
    // An external broker without persistence forgets retained messages when it restarts.
    return this.bus.onReconnect(
      () =>
        void this.rebuild(store).catch((err: Error) => this.log.warn({ err: err.message }, 'kv mirror rebuild failed')),
    )
  }

  /**
   * A rebuild while requests are served: each copy that differs is repaired in its key's write order
   * from what the store holds then, so a repair never overwrites a newer write's copy.
   */
  private async rebuild(store: KvStore): Promise<void> {
    await this.snapshot()
    for await (const { namespace, key, entry } of store.all()) {
      const topic = mirrorTopic(this.topics, namespace, key)
      const held = this.held.get(topic)
      this.held.delete(topic)
      if (held !== digest(mirrorPayload(namespace, key, entry, this.maxValueBytes)))
        await this.repair(store, namespace, key)
    }
    await this.clearLeftovers(store)
  }

  private async clearLeftovers(store: KvStore): Promise<void> {
    const left = [...this.held.keys()]
    this.held = new Map()
    const prefix = `${this.topics.state('kv')}/`
    for (const topic of left) {
      const parts = topic.slice(prefix.length).split('/')
      const [ns, key] = parts.length === 2 ? parts.map(decodeSegment) : []
      // Not a topic the mirror writes for any key (another spelling, more levels): only a clear is right.
      if (ns === undefined || key === undefined || mirrorTopic(this.topics, ns, key) !== topic)
        await this.publish(topic, '')
      else await this.repair(store, ns, key)
    }
  }

  private repair(store: KvStore, namespace: string, key: string): Promise<void> {
    return store.withKey(namespace, key, async () => {
      const entry = await store.get(namespace, key)
      await this.publish(
        mirrorTopic(this.topics, namespace, key),
        entry ? mirrorPayload(namespace, key, entry, this.maxValueBytes) : '',
      )
    })
  }

  private publish(topic: string, payload: string): Promise<void> {
    return this.bus
      .publish(topic, payload, { qos: 1, retain: true })
      .catch((err: Error) => this.log.warn({ err: err.message, topic }, 'kv mirror publish failed'))
  }
}

/** A topic segment back to the name it encodes; undefined for one the mirror cannot have written. */
function decodeSegment(segment: string | undefined): string | undefined {
  if (segment === undefined) return undefined
  try {
    return decodeURIComponent(segment)
  } catch {
    return undefined
  }
}
