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
}

export function withFastPaths(inner: LevelPersistence): FastPersistence {
  const retained = new Map<string, RetainedPacket>()

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
    for (const [topic, packet] of retained) {
      if (!seen.has(topic) && wild.some((w) => topicMatches(w, topic))) yield packet
    }
  }

  const overrides: Partial<FastPersistence> = {
    retainedNow: (filter) => [...matching([filter])],
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
      if (payload.length === 0) retained.delete(packet.topic)
      else retained.set(packet.topic, { cmd: 'publish', topic: packet.topic, payload, qos: packet.qos, retain: true })
      return inner.storeRetained(packet)
    },
    createRetainedStream: (pattern) => Readable.from(matching([pattern])),
    createRetainedStreamCombi: (patterns) => Readable.from(matching(patterns)),
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
