import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer, type ServerOptions as HttpsOptions } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import type { Bus } from '../broker/bus.js'
import type { Capability } from '../core/capability.js'
import { CapabilityError, httpStatusOf, toCapabilityError } from '../core/errors.js'
import type { Logger } from '../log.js'
import { readJsonBody } from './body.js'
import { applyCors } from './cors.js'
import { buildOpenApi } from './openapi.js'
import { sendError, sendJson } from './respond.js'
import { compileRoutes, matchRoute, type CompiledRoute, type Dialect } from './routes.js'

export interface HttpShimOptions {
  bus: Bus
  capabilities: Capability[]
  /** Capabilities switched off in config: their routes answer 404 NOT_FOUND, as on MQTT. */
  disabledCapabilities?: Capability[]
  host: string
  port: number
  bodyLimitBytes: number
  requestTimeoutMs: number
  corsOrigins: readonly string[]
  version: string
  log: Logger
  /**
   * Checked before anything reaches the bus; throws UNAUTHORIZED/FORBIDDEN. May return the
   * transaction to send the request under, so the audit line can name the caller.
   */
  authorize?: (req: IncomingMessage, capability: string) => Promise<string | void> | string | void
  /** Serve HTTPS with these options. */
  tls?: HttpsOptions
  /** Open connections; more are answered 503 BUSY and closed. */
  maxConnections?: number
  /** Time a client has to send its headers (slowloris guard); default 10 s. */
  headersTimeoutMs?: number
  /** Time a client has to send its body once the headers are in; default 10 s. */
  bodyTimeoutMs?: number
}

export interface HttpShim {
  port: number
  server: Server
  /** Stops accepting; in-flight requests still get their answer. */
  close(): Promise<void>
}

const OVERRIDABLE = new Set(['GET', 'PUT', 'DELETE', 'PATCH'])

/**
 * The thin REST shim: every call becomes one request message on the bus and its response envelope
 * becomes the HTTP answer. No handler is ever called directly, so MQTT and HTTP behave the same.
 */
export async function startHttpShim(opts: HttpShimOptions): Promise<HttpShim> {
  const routes = compileRoutes(opts.capabilities, opts.disabledCapabilities)
  const openapi = JSON.stringify(buildOpenApi(opts.capabilities, opts.version))
  const sockets = new Set<Socket>()

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (applyCors(req, res, opts.corsOrigins)) return
    // Parsed as a path, never relative to a base: `//x` would otherwise be read as a host (found by fuzzing).
    const url =
      URL.canParse(`http://localhost${req.url ?? '/'}`) && (req.url ?? '/').startsWith('/')
        ? new URL(`http://localhost${req.url ?? '/'}`)
        : undefined
    if (!url)
      return sendError(res, 'generic', 400, { code: 'BAD_REQUEST', message: 'Malformed request target', details: null })
    let method = (req.method ?? 'GET').toUpperCase()
    // Qlik's REST connector only sends GET and POST; Butler's scripts tunnel PUT/DELETE through this header.
    const override = String(req.headers['x-http-method-override'] ?? '').toUpperCase()
    if (method === 'POST' && OVERRIDABLE.has(override)) method = override

    if (method === 'GET' && url.pathname === '/api/openapi.json') {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(openapi)
      return
    }
    const dialect: Dialect = url.pathname.startsWith('/v4/') ? 'butler' : 'generic'
    let match
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
    if (match.route.disabled)
      return sendError(res, dialect, 404, {
        code: 'NOT_FOUND',
        message: `Capability '${match.route.capability.name}' is disabled`,
        details: null,
      })
    await callCapability(req, res, match.route, match.params, url.searchParams)
  }

  const callCapability = async (
    req: IncomingMessage,
    res: ServerResponse,
    route: CompiledRoute,
    params: Record<string, string>,
    search: URLSearchParams,
  ) => {
    const { capability, dialect } = route
    try {
      const transaction = (await opts.authorize?.(req, capability.name)) ?? undefined
      const body = await readJsonBody(req, opts.bodyLimitBytes)
      const request = route.route
        ? route.route.toRequest({ params, query: Object.fromEntries(search), body })
        : (body ?? {})
      if (!request || typeof request !== 'object' || Array.isArray(request)) {
        throw new CapabilityError('VALIDATION_FAILED', 'The request body must be a JSON object', {
          details: [{ path: '/', message: 'must be object' }],
        })
      }
      const env = await opts.bus.request(capability.name, request as Record<string, unknown>, {
        timeoutMs: opts.requestTimeoutMs,
        ...(transaction ? { transaction } : {}),
      })
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
      const status = route.route?.errorStatus?.[e.code] ?? httpStatusOf(e.code)
      // An unread oversized body would otherwise keep the socket busy.
      if (e.code === 'PAYLOAD_TOO_LARGE') res.setHeader('connection', 'close')
      // RFC 6750 §3: a 401 names the scheme the client should use.
      if (e.code === 'UNAUTHORIZED') res.setHeader('www-authenticate', 'Bearer realm="sensebus"')
      sendError(res, dialect, status, e.toJSON())
    }
  }

  const overLimit = new WeakSet<Socket>()
  const headersTimeout = opts.headersTimeoutMs ?? 10_000
  const bodyTimeout = opts.bodyTimeoutMs ?? 10_000
  const keepAliveTimeout = 5_000
  // Node's own headersTimeout/requestTimeout are swept on an interval and, in practice, let a
  // client that trickles bytes hold its socket; these deadlines are absolute, per socket.
  const deadlines = new WeakMap<Socket, NodeJS.Timeout>()
  const deadline = (socket: Socket, ms: number, what: string) => {
    clearTimeout(deadlines.get(socket))
    const timer = setTimeout(() => {
      opts.log.info({ remote: socket.remoteAddress, what }, 'slow client dropped')
      socket.destroy()
    }, ms)
    deadlines.set(socket, timer.unref())
  }
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket
    deadline(socket, bodyTimeout, 'body')
    req.once('end', () => clearTimeout(deadlines.get(socket)))
    // The next request on a kept-alive socket gets the idle time plus the header allowance.
    res.once('finish', () => deadline(socket, keepAliveTimeout + headersTimeout, 'headers'))
    if (overLimit.has(req.socket)) {
      res.setHeader('connection', 'close')
      const dialect: Dialect = (req.url ?? '').startsWith('/v4/') ? 'butler' : 'generic'
      return sendError(res, dialect, 503, {
        code: 'BUSY',
        message: `Too many open connections (${opts.maxConnections}); retry later`,
        details: null,
      })
    }
    handle(req, res).catch((err) => {
      opts.log.error({ err }, 'http request failed')
      sendJson(res, 500, { code: 'INTERNAL', message: 'Internal error', details: null })
    })
  }
  // Node enforces the two timeouts below on a sweep every connectionsCheckingInterval (30 s by
  // default), which would let a slowloris client hold a socket for far longer than configured.
  const serverOptions = { connectionsCheckingInterval: Math.min(1000, headersTimeout) }
  const server: Server = opts.tls
    ? createHttpsServer({ ...opts.tls, ...serverOptions }, onRequest)
    : createServer(serverOptions, onRequest)
  // Slowloris protection: a client must send its headers and body within these limits.
  server.headersTimeout = headersTimeout
  server.requestTimeout = opts.requestTimeoutMs + 5_000
  server.keepAliveTimeout = keepAliveTimeout
  // TLS servers emit 'connection' with the raw socket, before the handshake.
  server.on(opts.tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    socket.setNoDelay(true)
    sockets.add(socket)
    deadline(socket, headersTimeout, 'headers')
    socket.once('close', () => clearTimeout(deadlines.get(socket)))
    // Still served, once, with a clear 503: a bare reset would look like a network fault.
    if (opts.maxConnections !== undefined && sockets.size > opts.maxConnections) overLimit.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  server.on('clientError', (_err, socket) => {
    if (socket.writable)
      socket.end(
        'HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{"code":"BAD_REQUEST","message":"Malformed HTTP request","details":null}',
      )
    else socket.destroy()
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, opts.host, () => resolve())
  })
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
        // Give in-flight requests their answer, then drop whatever is left.
        setTimeout(() => {
          for (const s of sockets) s.destroy()
        }, 5_000).unref()
      }),
  }
}
