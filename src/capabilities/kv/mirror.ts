import type { Bus } from '../../broker/bus.js'
import { topicSegment, type Topics } from '../../core/topics.js'
import type { Logger } from '../../log.js'
import type { KvChange, KvStore } from './store.js'

export function mirrorTopic(topics: Topics, namespace: string, key: string): string {
  return topics.state('kv', topicSegment(namespace), topicSegment(key))
}

/**
 * Mirrors every key as a retained message so systems can watch keys without polling; deletes and
 * expiries clear the retained message. The store stays the source of truth: the mirror is rebuilt
 * from it at start-up (MQTT-STACK.md A2: Aedes' own persistence is not relied on for durability).
 */
export async function startMirror(store: KvStore, bus: Bus, topics: Topics, log: Logger): Promise<() => void> {
  const publish = (change: KvChange) => {
    const topic = mirrorTopic(topics, change.namespace, change.key)
    const payload =
      change.kind === 'set'
        ? {
            namespace: change.namespace,
            key: change.key,
            value: change.entry.value,
            expiresAt: change.entry.expiresAt === undefined ? null : new Date(change.entry.expiresAt).toISOString(),
            updatedAt: new Date(change.entry.updatedAt).toISOString(),
          }
        : ''
    return bus
      .publish(topic, payload, { qos: 1, retain: true })
      .catch((err: Error) => log.warn({ err: err.message, topic }, 'kv mirror publish failed'))
  }
  // Listen first, so keys that expire during the rebuild (or expired while stopped) get their clear.
  const stop = store.onChange(publish)
  const rebuild = async () => {
    const live = new Set<string>()
    for (const ns of store.namespaces()) {
      for (const [key] of store.entries(ns) ?? []) {
        // Re-read at publish time: a key that expired meanwhile must not be republished after its clear.
        const entry = store.get(ns, key)
        if (!entry) continue
        live.add(mirrorTopic(topics, ns, key))
        await publish({ kind: 'set', namespace: ns, key, entry })
      }
    }
    // A crash between a delete and its clear, or a wiped data dir, leaves retained copies of keys
    // the store no longer has: clear them.
    for (const { topic, payload } of await bus.retained(topics.state('kv', '#'))) {
      if (payload.length > 0 && !live.has(topic)) await bus.publish(topic, '', { qos: 1, retain: true })
    }
  }
  await rebuild()
  // An external broker without persistence forgets retained messages when it restarts.
  const offReconnect = bus.onReconnect(
    () => void rebuild().catch((err: Error) => log.warn({ err: err.message }, 'kv mirror rebuild failed')),
  )
  return () => {
    stop()
    offReconnect()
  }
}
