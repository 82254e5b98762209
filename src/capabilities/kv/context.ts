import { capabilityWith, type TopicAccess } from '../../core/capability.js'
import { CapabilityError } from '../../core/errors.js'
import type { KvConfig } from './schema.js'
import type { KvEntry, KvStore } from './store.js'

export interface KvState {
  store: KvStore
  config: KvConfig
  stopMirror?: () => void
}

export const kvCapability = capabilityWith<KvState, KvConfig>()

// Butler answers 400 for an unknown namespace or key on every KV route; scripts rely on it.
export const BUTLER_KV_ERRORS = { NOT_FOUND: 400, LIMIT_EXCEEDED: 400 } as const

export function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString()
}

export async function requireNamespace(store: KvStore, namespace: string): Promise<void> {
  await store.refresh(namespace)
  if (!store.hasNamespace(namespace))
    throw new CapabilityError('NOT_FOUND', `Namespace '${namespace}' does not exist`, { details: { namespace } })
}

export async function requireEntry(store: KvStore, namespace: string, key: string): Promise<KvEntry> {
  await requireNamespace(store, namespace)
  const entry = await store.get(namespace, key)
  if (!entry)
    throw new CapabilityError('NOT_FOUND', `Key '${key}' does not exist in namespace '${namespace}'`, {
      details: { namespace, key },
    })
  return entry
}

/** A role may scope KV to some namespaces (`security.roles.<r>.kv.namespaces`); every kv/* call checks it. */
export function requireKvAccess(access: TopicAccess, namespace: string): void {
  if (!access.kvNamespace(namespace))
    throw new CapabilityError('FORBIDDEN', `Your roles do not reach KV namespace '${namespace}'`, {
      details: { namespace },
    })
}
