import type { IncomingMessage, ServerResponse } from 'node:http'
import type { TLSSocket } from 'node:tls'
import { setTimeout as sleep } from 'node:timers/promises'
import type { SimContext } from '../context.js'
import { parseQlikUser, userLabel, xrfkeyValid, type QlikUser } from './auth.js'
import { QueryParseError, parseQuery, readBody, text, writeResponse, type QrsResponse } from './http-util.js'
import { matchRoute, type QrsRoute } from './router.js'

/** How the caller's identity is established: the direct port (§1.2) or a virtual proxy (§1.4). */
export type Identify = (req: IncomingMessage, ctx: SimContext) => { user: QlikUser } | { reject: QrsResponse }

/** §1.2: client certificate (when TLS let a cert-less client through) plus the X-Qlik-User header. */
export const identifyDirect: Identify = (req, ctx) => {
  const q = ctx.texts.qrs
  const socket = req.socket as TLSSocket
  if (!socket.authorized) return { reject: text(q.noClientCertBody, 403) }
  const user = parseQlikUser(req.headers['x-qlik-user'])
  if (user) return { user }
  if (q.missingUserBehaviour === 'default') return { user: { directory: 'INTERNAL', userId: 'sa_repository' } }
  return { reject: text(q.missingUserBody, 403) }
}

interface Parsed {
  method: string
  path: string
  query: Map<string, string>
  body: string
}

/** Identity → xrfkey (every method, §1.3) → 5xx fault → route. */
async function dispatch(
  routes: QrsRoute[],
  ctx: SimContext,
  identify: Identify,
  pathPrefix: string,
  req: IncomingMessage,
  p: Parsed,
): Promise<{ response: QrsResponse; user: QlikUser | null }> {
  const identity = identify(req, ctx)
  if ('reject' in identity) return { response: identity.reject, user: null }
  const { user } = identity
  const answer = (response: QrsResponse): { response: QrsResponse; user: QlikUser } => ({ response, user })
  if (!xrfkeyValid(p.query.get('xrfkey'), req.headers)) return answer(text(ctx.texts.qrs.xrfkeyFailedBody, 403))
  if (ctx.faults.qrs5xxRate > 0 && Math.random() < ctx.faults.qrs5xxRate) {
    return answer(text(ctx.texts.qrs.serverErrorBody, ctx.faults.qrs5xxStatus))
  }
  const prefix = `${pathPrefix}/qrs/`.toLowerCase()
  if (!p.path.toLowerCase().startsWith(prefix)) return answer(text(ctx.texts.qrs.notFoundBody, 404))
  const segments = p.path
    .slice(prefix.length)
    .split('/')
    .filter(Boolean)
    .map((s) => decodeURIComponent(s))
  const match = matchRoute(routes, p.method, segments)
  if (!match) return answer(text(ctx.texts.qrs.notFoundBody, 404))
  return answer(
    await match.route.handler(
      { method: p.method, segments, params: match.params, query: p.query, body: p.body, user },
      ctx,
    ),
  )
}

/**
 * The QRS request pipeline shared by every listener: latency fault, then `dispatch`. Every request is
 * recorded with its final status (§4.7 `GET /__sim/requests`).
 */
export async function handleQrs(
  routes: QrsRoute[],
  ctx: SimContext,
  identify: Identify,
  pathPrefix: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const rawUrl = req.url ?? '/'
  const qAt = rawUrl.indexOf('?')
  const parsed: Parsed = {
    method: (req.method ?? 'GET').toUpperCase(),
    path: qAt < 0 ? rawUrl : rawUrl.slice(0, qAt),
    query: new Map(),
    body: '',
  }
  let outcome: { response: QrsResponse; user: QlikUser | null }
  try {
    parsed.body = await readBody(req)
    if (ctx.faults.qrsLatencyMs > 0) await sleep(ctx.faults.qrsLatencyMs)
    parsed.query = parseQuery(qAt < 0 ? '' : rawUrl.slice(qAt + 1))
    outcome = await dispatch(routes, ctx, identify, pathPrefix, req, parsed)
  } catch (err) {
    if (err instanceof QueryParseError || err instanceof URIError) {
      outcome = { response: text(err.message, 400), user: null }
    } else {
      ctx.log.error({ err, method: parsed.method, path: parsed.path }, 'QRS handler failed')
      outcome = { response: text(ctx.texts.qrs.serverErrorBody, 500), user: null }
    }
  }
  ctx.recorder.record({
    face: 'qrs',
    method: parsed.method,
    path: parsed.path,
    query: Object.fromEntries(parsed.query),
    user: outcome.user ? userLabel(outcome.user) : null,
    status: outcome.response.status,
  })
  if (!res.destroyed) writeResponse(res, outcome.response)
}
