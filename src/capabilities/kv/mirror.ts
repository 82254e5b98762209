import type { Bus } from '../../core/bus.js'
import { topicSegment, type Topics } from '../../core/topics.js'
import type { Logger } from '../../log.js'
import type { KvChange, KvEntry, KvStore } from './store.js'

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
 * Mirrors every key as a retained message so systems can watch keys without polling; deletes and
 * expiries clear the retained message. The store stays the source of truth: the mirror is reconciled
 * with it at start-up (MQTT-STACK.md A2: Aedes' own persistence is not relied on for durability),
 * rewriting only what differs.
 */
export async function startMirror(
  store: KvStore,
  bus: Bus,
  topics: Topics,
  log: Logger,
  maxValueBytes: number,
): Promise<() => void> {
  const publish = (topic: string, payload: string) =>
    bus
      .publish(topic, payload, { qos: 1, retain: true })
      .catch((err: Error) => log.warn({ err: err.message, topic }, 'kv mirror publish failed'))
  const onChange = (change: KvChange) => {
    const topic = mirrorTopic(topics, change.namespace, change.key)
    return publish(
      topic,
      change.kind === 'set' ? mirrorPayload(change.namespace, change.key, change.entry, maxValueBytes) : '',
    )
  }
  // Listen first, so keys that expire during the reconciliation get their clear.
  const stop = store.onChange(onChange)
  const reconcile = async () => {
    const retained = new Map<string, string>()
    for (const { topic, payload } of await bus.retained(topics.state('kv', '#')))
      retained.set(topic, payload.toString())
    for await (const { namespace, key, entry } of store.all()) {
      const topic = mirrorTopic(topics, namespace, key)
      const payload = mirrorPayload(namespace, key, entry, maxValueBytes)
      const held = retained.get(topic)
      retained.delete(topic)
      // An unchanged copy is left alone: rewriting every value at each start grows the broker's store.
      if (held !== payload) await publish(topic, payload)
    }
    // What is left is retained copies of keys the store no longer has (a crash between a delete and
    // its clear, or a wiped data dir): clear them.
    for (const [topic, payload] of retained) if (payload.length > 0) await publish(topic, '')
  }
  await reconcile()
  // An external broker without persistence forgets retained messages when it restarts.
  const offReconnect = bus.onReconnect(
    () => void reconcile().catch((err: Error) => log.warn({ err: err.message }, 'kv mirror rebuild failed')),
  )
  return () => {
    stop()
    offReconnect()
  }
}
