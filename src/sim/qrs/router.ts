import type { SimContext } from '../context.js'
import type { QlikUser } from './auth.js'
import type { QrsResponse } from './http-util.js'

export interface QrsRequest {
  method: string
  /** Path below `/qrs/`, split, raw case kept. */
  segments: string[]
  params: Record<string, string>
  /** Lower-cased names, decoded values. */
  query: Map<string, string>
  body: string
  user: QlikUser
}

export type QrsHandler = (req: QrsRequest, ctx: SimContext) => QrsResponse | Promise<QrsResponse>

export interface QrsRoute {
  method: string
  /** Segments below `/qrs/`; `:name` captures. Literals match case-insensitively (QRS paths do). */
  pattern: string[]
  handler: QrsHandler
}

export function route(method: string, path: string, handler: QrsHandler): QrsRoute {
  return { method, pattern: path.split('/').filter(Boolean), handler }
}

/** First route in declaration order wins, so literal routes (`task/full`) go before `task/:id`. */
export function matchRoute(
  routes: QrsRoute[],
  method: string,
  segments: string[],
): { route: QrsRoute; params: Record<string, string> } | null {
  for (const r of routes) {
    if (r.method !== method || r.pattern.length !== segments.length) continue
    const params: Record<string, string> = {}
    const ok = r.pattern.every((p, i) => {
      const seg = segments[i] as string
      if (p.startsWith(':')) {
        params[p.slice(1)] = seg
        return true
      }
      return p.toLowerCase() === seg.toLowerCase()
    })
    if (ok) return { route: r, params }
  }
  return null
}
