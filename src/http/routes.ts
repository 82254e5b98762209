import type { Capability, HttpRoute } from '../core/capability.js'

export type Dialect = 'generic' | 'butler'

export interface CompiledRoute {
  method: string
  pattern: string
  segments: string[]
  capability: Capability
  dialect: Dialect
  route?: HttpRoute
  /** The capability is switched off in config: the route exists so it can answer 404, not 405. */
  disabled: boolean
}

/** Every HTTP route, generated from the registry: the generic form per capability plus Butler's paths. */
export function compileRoutes(capabilities: Capability[], disabled: Capability[] = []): CompiledRoute[] {
  const routes: CompiledRoute[] = []
  const add = (capability: Capability, isDisabled: boolean) => {
    const generic = `/api/v1/${capability.name}`
    routes.push({
      method: 'POST',
      pattern: generic,
      segments: split(generic),
      capability,
      dialect: 'generic',
      disabled: isDisabled,
    })
    for (const route of capability.routes ?? []) {
      routes.push({
        method: route.method,
        pattern: route.path,
        segments: split(route.path),
        capability,
        dialect: 'butler',
        route,
        disabled: isDisabled,
      })
    }
  }
  for (const capability of capabilities) add(capability, false)
  for (const capability of disabled) add(capability, true)
  return routes
}

function split(path: string): string[] {
  return path.split('/').filter(Boolean)
}

export type MatchResult =
  | { route: CompiledRoute; params: Record<string, string> }
  | { methodNotAllowed: string[] }
  | undefined

/** Literal segments win over `:params` (so `/keyexists` is not taken for a key name). */
export function matchRoute(routes: CompiledRoute[], method: string, path: string): MatchResult {
  const parts = split(path)
  const candidates: Array<{ route: CompiledRoute; params: Record<string, string>; literals: number }> = []
  for (const route of routes) {
    if (route.segments.length !== parts.length) continue
    const params: Record<string, string> = {}
    let literals = 0
    let matched = true
    for (let i = 0; i < parts.length && matched; i++) {
      const seg = route.segments[i] as string
      const part = parts[i] as string
      if (seg.startsWith(':')) params[seg.slice(1)] = decodeURIComponent(part)
      else if (seg.toLowerCase() === part.toLowerCase()) literals++
      else matched = false
    }
    if (matched) candidates.push({ route, params, literals })
  }
  if (candidates.length === 0) return undefined
  const forMethod = candidates.filter((c) => c.route.method === method).sort((a, b) => b.literals - a.literals)
  const best = forMethod[0]
  if (best) return { route: best.route, params: best.params }
  return { methodNotAllowed: [...new Set(candidates.map((c) => c.route.method))] }
}
