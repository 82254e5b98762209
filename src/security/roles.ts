import type { Topics } from '../core/topics.js'
import type { RoleSpec } from './config.js'
import { capabilityMatches, filterCovers, responseFilterOf } from './patterns.js'

/** What a set of roles together allows, with `{base}` resolved and response topics derived. */
export interface Grants {
  roles: readonly string[]
  isAdmin: boolean
  canCall(capability: string): boolean
  canPublish(topic: string): boolean
  canSubscribe(filter: string): boolean
}

/** Capability names per grantable built-in role, as the registry's capabilities declare them. */
export type RegistryGrants = Readonly<Record<'loadscript' | 'observer', readonly string[]>>

/**
 * Built-in roles. Their capabilities come from the registry (each capability names the roles it is
 * for), so adding a capability never means editing a list here. `loadscript` is what a Qlik load
 * script needs; `observer` watches events, state and availability.
 */
export function builtInRoles(registry: RegistryGrants): Record<string, Required<RoleSpec>> {
  const watch = ['{base}/event/#', '{base}/state/#', '{base}/bridge/#']
  return {
    admin: { capabilities: ['*'], publish: ['#'], subscribe: ['#', '$SYS/#'] },
    loadscript: { capabilities: [...registry.loadscript], publish: [], subscribe: watch },
    observer: { capabilities: [...registry.observer], publish: [], subscribe: watch },
  }
}

export type RoleTable = ReadonlyMap<string, Required<RoleSpec>>

/** Built-ins plus config roles; redefining a built-in is refused so `admin` always means admin. */
export function buildRoleTable(
  configRoles: Record<string, RoleSpec>,
  topics: Topics,
  registry: RegistryGrants,
): RoleTable {
  const table = new Map<string, Required<RoleSpec>>()
  const BUILT_IN_ROLES = builtInRoles(registry)
  const resolve = (patterns: string[]) => patterns.map((p) => p.replaceAll('{base}', topics.base))
  for (const [name, spec] of Object.entries(BUILT_IN_ROLES)) {
    table.set(name, {
      capabilities: spec.capabilities,
      publish: resolve(spec.publish),
      subscribe: resolve(spec.subscribe),
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
    const specs = roles.map((r) => table.get(r)).filter((s): s is Required<RoleSpec> => s !== undefined)
    const capabilities = specs.flatMap((s) => s.capabilities)
    const publish = specs.flatMap((s) => s.publish)
    // Whoever may call a capability may read its answers on the shared response topic.
    const subscribe = [
      ...specs.flatMap((s) => s.subscribe),
      ...capabilities.map((c) => responseFilterOf(responseBase, c)),
    ]
    grants = {
      roles,
      isAdmin: roles.includes('admin'),
      canCall: (capability) => capabilities.some((p) => capabilityMatches(p, capability)),
      canPublish: (topic) => publish.some((p) => filterCovers(p, topic)),
      canSubscribe: (filter) => subscribe.some((p) => filterCovers(p, filter)),
    }
    cache.set(key, grants)
    return grants
  }
}
