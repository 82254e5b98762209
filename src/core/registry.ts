import type { Capability, CapabilityModule } from './capability.js'

/**
 * `kv/delete` disables one capability, `kv/*` a whole area. An area is also its module's name: the file
 * module serves `dir/create` too, and `file/*` switching file operations off must not leave it open.
 * `dir/*` still disables just the `dir/...` capabilities.
 */
export function isDisabled(name: string, disabled: readonly string[], moduleArea?: string): boolean {
  const area = name.split('/')[0]
  return (
    disabled.includes(name) ||
    disabled.includes(`${area}/*`) ||
    (moduleArea !== undefined && disabled.includes(`${moduleArea}/*`))
  )
}

/** The modules with at least one enabled capability, each with only its enabled capabilities. */
export function enabledModules(modules: CapabilityModule[], disabled: readonly string[]): CapabilityModule[] {
  return modules
    .map((m) => ({ ...m, capabilities: m.capabilities.filter((c) => !isDisabled(c.name, disabled, m.area)) }))
    .filter((m) => m.capabilities.length > 0)
}

export function allCapabilities(modules: CapabilityModule[]): Capability[] {
  return modules.flatMap((m) => m.capabilities)
}

export function butlerFlagsOf(modules: CapabilityModule[]): string[] {
  const flags = new Set<string>()
  for (const c of allCapabilities(modules)) for (const r of c.routes ?? []) if (r.butlerFlag) flags.add(r.butlerFlag)
  return [...flags].sort()
}

/** Which capabilities each grantable built-in role gets, as the capabilities declare it. */
export function registryGrants(capabilities: Capability[]): { loadscript: string[]; observer: string[] } {
  const of = (role: 'loadscript' | 'observer') => capabilities.filter((c) => c.roles?.includes(role)).map((c) => c.name)
  return { loadscript: of('loadscript'), observer: of('observer') }
}
