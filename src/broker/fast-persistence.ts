import { Readable } from 'node:stream'
import type { LevelPersistence, RetainedPacket } from 'aedes-persistence-level'
import { topicMatches } from '../core/topics.js'

/**
 * Two fast paths in front of aedes-persistence-level, measured in spec/bench:
 *
 * - Retained messages are served from memory (loaded at setup, written through to LevelDB). The
 *   level store answers every SUBSCRIBE by scanning all retained messages: 65 ms of broker CPU per
 *   SUBSCRIBE with the KV mirror's 10,000 keys, even for an unrelated topic (MQTT-STACK.md A1).
 * - A PUBACK from a clean-session client clears nothing: Aedes never stores outgoing messages for
 *   clean clients, yet the level store does a LevelDB read per PUBACK (36% of the kv/get path's CPU).
 */
export type FastPersistence = LevelPersistence & {
  /** The retained messages under `filter` held now, read straight from memory (no stream per message). */
  retainedNow(filter: string): RetainedPacket[]
  /**
   * The retained messages under these filters, read as the iteration goes (a message set meanwhile is
   * read as it is then). What retained-delivery.ts sends a new subscription: Aedes' own retained stream
   * is empty here, as it writes one message per socket write.
   */
  retainedMatching(filters: string[]): Iterator<RetainedPacket>
  /**
   * Hands the retained messages under `prefix` to an owner that holds their source of truth (the KV
   * mirror: the store). From then on they live in memory only and the owner seeds them at each start;
   * copies an earlier version persisted are removed once.
   */
  ownRetained(prefix: string): Promise<RetainedSeed>
}

/** Sets one owned retained message at start-up (nothing is published; an empty payload clears it). */
export type RetainedSeed = (topic: string, payload: Buffer) => void

/** Copies removed from LevelDB per step when an owner takes a prefix over (one-time migration). */
const MIGRATION_BATCH = 1000

export function withFastPaths(inner: LevelPersistence): FastPersistence {
  const retained = new Map<string, RetainedPacket>()
  /** Prefixes whose retained messages an owner rebuilds at start-up: never written to LevelDB. */
  const owned: string[] = []
  const isOwned = (topic: string) => owned.some((prefix) => topic.startsWith(prefix))
  const remember = (topic: string, payload: Buffer, qos: RetainedPacket['qos']) => {
    if (payload.length === 0) retained.delete(topic)
    else retained.set(topic, { cmd: 'publish', topic, payload, qos, retain: true })
  }

  function* matching(patterns: string[]): Generator<RetainedPacket> {
    const exact = patterns.filter((p) => !/[+#]/.test(p))
    const wild = patterns.filter((p) => /[+#]/.test(p))
    const seen = new Set<string>()
    for (const topic of exact) {
      const hit = retained.get(topic)
      if (hit && !seen.has(topic)) {
        seen.add(topic)
        yield hit
      }
    }
    if (wild.length === 0) return
    // The literal part before a filter's first wildcard rules out most topics with one string compare
    // (100,000 KV mirror copies are skipped in milliseconds by a `sense/state/job/+` scan).
    // A filter whose only wildcard is a final `/#` matches exactly the topics that start with its head
    // (`sense/state/kv/#` is how the whole mirror is read): no level walk per topic.
    // `a/#` also matches `a` itself, the parent level ([MQTT-4.7.1-2]): the one topic outside the head.
    const filters = wild.map((w) => {
      const head = w.slice(0, w.search(/[+#]/))
      const prefix = head.length === w.length - 1 && head.endsWith('/')
      return { w, head, prefix, parent: prefix ? head.slice(0, -1) : undefined }
    })
    const matches = (topic: string) =>
      filters.some((f) => (topic.startsWith(f.head) ? f.prefix || topicMatches(f.w, topic) : topic === f.parent))
    for (const [topic, packet] of retained) {
      if (!seen.has(topic) && matches(topic)) yield packet
    }
  }

  const overrides: Partial<FastPersistence> = {
    retainedNow: (filter) => [...matching([filter])],
    retainedMatching: (filters) => matching(filters),
    async setup(broker) {
      await inner.setup(broker)
      for await (const p of inner.createRetainedStreamCombi(['#']) as AsyncIterable<RetainedPacket>) {
        retained.set(p.topic, {
          cmd: 'publish',
          topic: p.topic,
          payload: Buffer.from(p.payload),
          qos: p.qos,
          retain: true,
        })
      }
    },
    storeRetained(packet) {
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)
      remember(packet.topic, payload, packet.qos)
      return isOwned(packet.topic) ? Promise.resolve() : inner.storeRetained(packet)
    },
    async ownRetained(prefix) {
      owned.push(prefix)
      const stale = [...retained.values()].filter((p) => p.topic.startsWith(prefix))
      for (const p of stale) retained.delete(p.topic)
      for (let i = 0; i < stale.length; i += MIGRATION_BATCH) {
        await Promise.all(
          stale.slice(i, i + MIGRATION_BATCH).map((p) => inner.storeRetained({ ...p, payload: Buffer.alloc(0) })),
        )
      }
      return (topic, payload) => remember(topic, payload, 1)
    },
    createRetainedStream: (pattern) => Readable.from(matching([pattern])),
    // Called by Aedes only to send a new subscription its retained messages: retained-delivery.ts does that.
    createRetainedStreamCombi: () => Readable.from([]),
    outgoingClearMessageId(client, packet) {
      return client.clean ? Promise.resolve(undefined) : inner.outgoingClearMessageId(client, packet)
    },
  }
  return new Proxy(inner as FastPersistence, {
    get(target, prop, receiver) {
      if (prop in overrides) return overrides[prop as keyof FastPersistence]
      const value: unknown = Reflect.get(target, prop, receiver)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}
