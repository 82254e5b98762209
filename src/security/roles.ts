import type { Topics } from '../core/topics.js'
import type { RoleSpec } from './config.js'
import { capabilityMatches, filterCovers, namespaceMatches, responseFilterOf } from './patterns.js'

/** What a set of roles together allows, with `{base}` resolved and response topics derived. */
export interface Grants {
  roles: readonly string[]
  isAdmin: boolean
  canCall(capability: string): boolean
  canPublish(topic: string): boolean
  canSubscribe(filter: string): boolean
  /** Whether a message on `topic` may reach these roles: a grant covers it and no deny filter matches. */
  canReceive(topic: string): boolean
  /** Whether the KV namespace is within reach (every one unless a role scopes KV). */
  kvNamespace(namespace: string): boolean
  /** Deliveries must be checked message by message (deny filters or a KV scope cut into grants). */
  filtersDelivery: boolean
}

/** A role with `{base}` resolved and every list present. */
export interface ResolvedRole {
  capabilities: string[]
  publish: string[]
  subscribe: string[]
  denyPublish: string[]
  denySubscribe: string[]
  /** Undefined: every namespace. */
  kvNamespaces?: string[] | undefined
}

/** Capability names per grantable built-in role, as the registry's capabilities declare them. */
export type RegistryGrants = Readonly<Record<'loadscript' | 'observer', readonly string[]>>

/**
 * Built-in roles. Their capabilities come from the registry (each capability names the roles it is
 * for), so adding a capability never means editing a list here. `loadscript` is what a Qlik load
 * script needs; `observer` watches events, state and availability.
 */
export function builtInRoles(
  registry: RegistryGrants,
): Record<string, Pick<ResolvedRole, 'capabilities' | 'publish' | 'subscribe'>> {
  const watch = ['{base}/event/#', '{base}/state/#', '{base}/bridge/#']
  return {
    admin: { capabilities: ['*'], publish: ['#'], subscribe: ['#', '$SYS/#'] },
    loadscript: { capabilities: [...registry.loadscript], publish: [], subscribe: watch },
    observer: { capabilities: [...registry.observer], publish: [], subscribe: watch },
  }
}

export type RoleTable = ReadonlyMap<string, ResolvedRole>

/** Built-ins plus config roles; redefining a built-in is refused so `admin` always means admin. */
export function buildRoleTable(
  configRoles: Record<string, RoleSpec>,
  topics: Topics,
  registry: RegistryGrants,
): RoleTable {
  const table = new Map<string, ResolvedRole>()
  const BUILT_IN_ROLES = builtInRoles(registry)
  const resolve = (patterns: string[]) => patterns.map((p) => p.replaceAll('{base}', topics.base))
  for (const [name, spec] of Object.entries(BUILT_IN_ROLES)) {
    table.set(name, {
      capabilities: spec.capabilities,
      publish: resolve(spec.publish),
      subscribe: resolve(spec.subscribe),
      denyPublish: [],
      denySubscribe: [],
    })
  }
  for (const [name, spec] of Object.entries(configRoles)) {
    if (BUILT_IN_ROLES[name])
      throw new Error(
        `security.roles.${name}: '${name}' is a built-in role and cannot be redefined; give the new role another name`,
      )
    table.set(name, {
      capabilities: spec.capabilities ?? [],
      publish: resolve(spec.publish ?? []),
      subscribe: resolve(spec.subscribe ?? []),
      denyPublish: resolve(spec.denyPublish ?? []),
      denySubscribe: resolve(spec.denySubscribe ?? []),
      kvNamespaces: spec.kv?.namespaces,
    })
  }
  return table
}

/** Grants for a role list; cached per distinct list because every PUBLISH asks. */
export function grantsFactory(table: RoleTable, topics: Topics): (roles: readonly string[]) => Grants {
  const cache = new Map<string, Grants>()
  const responseBase = topics.area('response')
  return (roles) => {
    const key = roles.join('\u0000')
    let grants = cache.get(key)
    if (grants) return grants
    const specs = roles.map((r) => table.get(r)).filter((s): s is ResolvedRole => s !== undefined)
    const capabilities = specs.flatMap((s) => s.capabilities)
    const publish = specs.flatMap((s) => s.publish)
    // Whoever may call a capability may read its answers on the shared response topic.
    const subscribe = [
      ...specs.flatMap((s) => s.subscribe),
      ...capabilities.map((c) => responseFilterOf(responseBase, c)),
    ]
    const isAdmin = roles.includes('admin')
    // A deny in any role wins over every grant of every role (admin is never restricted).
    const denyPublish = isAdmin ? [] : specs.flatMap((s) => s.denyPublish)
    const denySubscribe = isAdmin ? [] : specs.flatMap((s) => s.denySubscribe)
    // A KV scope in any role limits KV to the scopes' union: a broad role held alongside does not widen it.
    const scopes = specs.filter((s) => s.kvNamespaces !== undefined).flatMap((s) => s.kvNamespaces as string[])
    const kvScoped = !isAdmin && specs.some((s) => s.kvNamespaces !== undefined)
    const kvNamespace = (ns: string) => !kvScoped || scopes.some((p) => namespaceMatches(p, ns))
    const kvMirror = `${topics.area('state')}/kv/`
    const canSubscribe = (filter: string) =>
      subscribe.some((p) => filterCovers(p, filter)) && !denySubscribe.some((d) => filterCovers(d, filter))
    grants = {
      roles,
      isAdmin,
      canCall: (capability) => capabilities.some((p) => capabilityMatches(p, capability)),
      canPublish: (topic) =>
        publish.some((p) => filterCovers(p, topic)) && !denyPublish.some((d) => filterCovers(d, topic)),
      canSubscribe,
      canReceive: (topic) => {
        if (!canSubscribe(topic)) return false
        if (!kvScoped || !topic.startsWith(kvMirror)) return true
        const segment = topic.slice(kvMirror.length).split('/')[0] ?? ''
        try {
          return kvNamespace(decodeURIComponent(segment))
        } catch {
          return false
        }
      },
      kvNamespace,
      filtersDelivery: denySubscribe.length > 0 || kvScoped,
    }
    cache.set(key, grants)
    return grants
  }
}
