import type { Capability, HttpRoute } from '../core/capability.js'

export type Dialect = 'generic' | 'butler'

export interface CompiledRoute {
  method: string
  pattern: string
  segments: string[]
  /** Each literal segment lower-cased once here (literals match case-insensitively); undefined for a `:param`. */
  literals: Array<string | undefined>
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
      ...segmentsOf(generic),
      capability,
      dialect: 'generic',
      disabled: isDisabled,
    })
    for (const route of capability.routes ?? []) {
      routes.push({
        method: route.method,
        pattern: route.path,
        ...segmentsOf(route.path),
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

function segmentsOf(pattern: string): Pick<CompiledRoute, 'segments' | 'literals'> {
  const segments = split(pattern)
  return { segments, literals: segments.map((s) => (s.startsWith(':') ? undefined : s.toLowerCase())) }
}

export type MatchResult =
  | { route: CompiledRoute; params: Record<string, string> }
  | { methodNotAllowed: string[] }
  | undefined

/**
 * Literal segments win over `:params` (so `/keyexists` is not taken for a key name). Runs once per HTTP
 * request over every route: nothing is allocated for a route that does not match (it was ~2 KB of garbage per
 * request, issue #10). A path segment is percent-decoded when a route reaches it as a `:param`, once; a
 * malformed one throws (the caller answers 400).
 */
export function matchRoute(routes: CompiledRoute[], method: string, path: string): MatchResult {
  const parts = split(path)
  const lower = parts.map((p) => p.toLowerCase())
  const decoded = new Array<string | undefined>(parts.length)
  let best: CompiledRoute | undefined
  let bestLiterals = -1
  let methods: string[] | undefined
  for (const route of routes) {
    if (route.segments.length !== parts.length) continue
    let literals = 0
    let i = 0
    for (; i < parts.length; i++) {
      const literal = route.literals[i]
      if (literal === undefined) decoded[i] ??= decodeURIComponent(parts[i] as string)
      else if (literal === lower[i]) literals++
      else break
    }
    if (i < parts.length) continue
    // The first of the routes with the most literal segments, for this method.
    if (route.method === method) {
      if (literals > bestLiterals) {
        best = route
        bestLiterals = literals
      }
    } else (methods ??= []).push(route.method)
  }
  if (best) {
    const params: Record<string, string> = {}
    for (const [i, literal] of best.literals.entries())
      if (literal === undefined) params[(best.segments[i] as string).slice(1)] = decoded[i] as string
    return { route: best, params }
  }
  return methods ? { methodNotAllowed: [...new Set(methods)] } : undefined
}
