import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Bus } from '../core/bus.js'
import type { Capability } from '../core/capability.js'
import { CapabilityError, httpStatusOf, toCapabilityError } from '../core/errors.js'
import type { Identity } from '../core/identity.js'
import { DEFAULT_REQUEST_LIMITS, nestsDeeperThan, tooDeep } from '../core/request.js'
import type { Logger } from '../log.js'
import { ClientAbortedError, readJsonBody } from './body.js'
import { applyCors } from './cors.js'
import { sendError, sendJson } from './respond.js'
import { type CompiledRoute, compileRoutes, type Dialect, matchRoute } from './routes.js'

export interface HandlerOptions {
  bus: Bus
  capabilities: Capability[]
  /** Capabilities switched off in config: their routes answer 404 NOT_FOUND, as on MQTT. */
  disabledCapabilities?: Capability[]
  bodyLimitBytes: number
  /** The wait for capabilities that declare no timeout of their own. */
  requestTimeoutMs: number
  corsOrigins: readonly string[]
  log: Logger
  /** Who is calling (from the bearer token); throws UNAUTHORIZED/FORBIDDEN before anything reaches the bus. */
  authorize(req: IncomingMessage, capability: string): Promise<Identity>
  /** GET routes outside the capabilities (API description, health, metrics), by exact path. */
  documents: Record<string, DocumentHandler>
}

/** Whether every query parameter decodes to well-formed UTF-8. */
function hasWellFormedQuery(search: string): boolean {
  for (const part of search.slice(1).split('&')) {
    try {
      decodeURIComponent(part.replaceAll('+', ' '))
    } catch {
      return false
    }
  }
  return true
}

export interface DocumentAnswer {
  status?: number
  type: string
  body: string | Buffer
  headers?: Record<string, string>
}

/** May throw a CapabilityError (UNAUTHORIZED) to refuse. */
export type DocumentHandler = (req: IncomingMessage) => DocumentAnswer | Promise<DocumentAnswer>

const OVERRIDABLE = new Set(['GET', 'PUT', 'DELETE', 'PATCH'])
/** The shim waits a little longer than the capability, so the dispatcher's own TIMEOUT answer wins. */
const ANSWER_MARGIN_MS = 1_000

/**
 * The thin REST shim: every call becomes one request message on the bus, under the caller's
 * identity, and its response envelope becomes the HTTP answer. No handler is ever called directly, so
 * MQTT and HTTP behave the same.
 */
export function httpHandler(opts: HandlerOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const routes = compileRoutes(opts.capabilities, opts.disabledCapabilities)

  const callCapability = async (
    req: IncomingMessage,
    res: ServerResponse,
    route: CompiledRoute,
    params: Record<string, string>,
    search: URLSearchParams,
  ) => {
    const { capability, dialect } = route
    try {
      const identity = await opts.authorize(req, capability.name)
      const body = await readJsonBody(req, opts.bodyLimitBytes)
      // Checked before anything serialises the body: JSON.stringify recurses and would overflow the stack.
      if (nestsDeeperThan(body, DEFAULT_REQUEST_LIMITS.maxDepth)) {
        const { message, details } = tooDeep(DEFAULT_REQUEST_LIMITS.maxDepth)
        throw new CapabilityError('VALIDATION_FAILED', message, { details })
      }
      const request = route.route
        ? route.route.toRequest({ params, query: Object.fromEntries(search), body })
        : (body ?? {})
      if (!request || typeof request !== 'object' || Array.isArray(request)) {
        throw new CapabilityError('VALIDATION_FAILED', 'The request body must be a JSON object', {
          details: [{ path: '/', message: 'must be object' }],
        })
      }
      const timeoutMs = (capability.timeoutMs ?? opts.requestTimeoutMs) + ANSWER_MARGIN_MS
      const env = await opts.bus.request(capability.name, request as Record<string, unknown>, { timeoutMs, identity })
      if (env.status === 'error') {
        const status = route.route?.errorStatus?.[env.error.code] ?? httpStatusOf(env.error.code)
        return sendError(res, dialect, status, env.error)
      }
      if (!route.route) return sendJson(res, 200, env.data)
      const status = route.route.status ?? 200
      const out = route.route.toBody ? route.route.toBody(env.data, request) : env.data
      sendJson(res, status, status === 204 ? undefined : out)
    } catch (err) {
      const e = toCapabilityError(err)
      if (e.code === 'INTERNAL') opts.log.error({ err }, 'http shim failure')
      if (err instanceof ClientAbortedError) {
        opts.log.debug({ remote: req.socket.remoteAddress, reason: e.message }, 'client aborted the request')
        if (req.socket.destroyed) return
      }
      const status = route.route?.errorStatus?.[e.code] ?? httpStatusOf(e.code)
      // An unread oversized body would otherwise keep the socket busy.
      if (e.code === 'PAYLOAD_TOO_LARGE') res.setHeader('connection', 'close')
      // RFC 6750 §3: a 401 names the scheme the client should use.
      if (e.code === 'UNAUTHORIZED') res.setHeader('www-authenticate', 'Bearer realm="sensebus"')
      sendError(res, dialect, status, e.toJSON())
    }
  }

  const serveDocument = async (req: IncomingMessage, res: ServerResponse, document: DocumentHandler) => {
    try {
      const { status = 200, type, body, headers } = await document(req)
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers }).end(body)
    } catch (err) {
      const e = toCapabilityError(err)
      if (e.code === 'INTERNAL') opts.log.error({ err }, 'http document failure')
      if (e.code === 'UNAUTHORIZED') res.setHeader('www-authenticate', 'Bearer realm="sensebus"')
      sendError(res, 'generic', httpStatusOf(e.code), e.toJSON())
    }
  }

  return async (req, res) => {
    if (applyCors(req, res, opts.corsOrigins)) return
    // Parsed as a path, never relative to a base: `//x` would otherwise be read as a host (found by fuzzing).
    const target = req.url ?? '/'
    const url =
      target.startsWith('/') && URL.canParse(`http://localhost${target}`)
        ? new URL(`http://localhost${target}`)
        : undefined
    if (!url)
      return sendError(res, 'generic', 400, { code: 'BAD_REQUEST', message: 'Malformed request target', details: null })
    let method = (req.method ?? 'GET').toUpperCase()
    // Qlik's REST connector only sends GET and POST; Butler's scripts tunnel PUT/DELETE through this header.
    const override = String(req.headers['x-http-method-override'] ?? '').toUpperCase()
    if (method === 'POST' && OVERRIDABLE.has(override)) method = override

    const dialect: Dialect = url.pathname.startsWith('/v4/') ? 'butler' : 'generic'
    // URLSearchParams turns malformed escapes (`%FF%FE`) into U+FFFD silently: a different key than sent.
    if (!hasWellFormedQuery(url.search)) {
      return sendError(res, dialect, 400, {
        code: 'BAD_REQUEST',
        message: 'Malformed percent-encoding in the query string',
        details: null,
      })
    }
    const document = method === 'GET' ? opts.documents[url.pathname] : undefined
    if (document) return serveDocument(req, res, document)
    let match: ReturnType<typeof matchRoute>
    try {
      match = matchRoute(routes, method, url.pathname)
    } catch {
      return sendError(res, dialect, 400, {
        code: 'BAD_REQUEST',
        message: 'Malformed percent-encoding in the path',
        details: null,
      })
    }
    if (!match)
      return sendError(res, dialect, 404, {
        code: 'NOT_FOUND',
        message: `No route ${method} ${url.pathname}`,
        details: null,
      })
    if ('methodNotAllowed' in match) {
      res.setHeader('allow', match.methodNotAllowed.join(', '))
      return sendError(res, dialect, 405, {
        code: 'METHOD_NOT_ALLOWED',
        message: `${method} is not allowed on ${url.pathname}`,
        details: { allow: match.methodNotAllowed },
      })
    }
    if (match.route.disabled) {
      return sendError(res, dialect, 404, {
        code: 'NOT_FOUND',
        message: `Capability '${match.route.capability.name}' is disabled`,
        details: null,
      })
    }
    await callCapability(req, res, match.route, match.params, url.searchParams)
  }
}
