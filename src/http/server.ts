import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer, type ServerOptions as HttpsOptions } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import type { Logger } from '../log.js'
import { type HandlerOptions, httpHandler } from './handler.js'
import { sendError, sendJson } from './respond.js'
import type { Dialect } from './routes.js'

export interface HttpShimOptions extends HandlerOptions {
  host: string
  port: number
  log: Logger
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
  /** Open connections now (metrics). */
  connections(): number
  /** Stops accepting; in-flight requests still get their answer. */
  close(): Promise<void>
}

/** The raw answer to a request Node's parser rejected; RFC 6585 §5 has its own status for huge headers. */
function clientErrorAnswer(err: NodeJS.ErrnoException): string {
  const [status, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? ['431 Request Header Fields Too Large', 'HEADERS_TOO_LARGE', 'Request headers are too large']
      : ['400 Bad Request', 'BAD_REQUEST', 'Malformed HTTP request']
  const body = JSON.stringify({ code, message, details: null })
  const head = `HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}`
  return `${head}\r\nconnection: close\r\n\r\n${body}`
}

/**
 * The HTTP listener and its connection hardening: absolute header and body deadlines per socket,
 * a connection limit answered with a clear 503, and malformed requests answered in JSON. Routing is
 * the handler's job (./handler.ts).
 */
export async function startHttpShim(opts: HttpShimOptions): Promise<HttpShim> {
  const handle = httpHandler(opts)
  const sockets = new Set<Socket>()
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
  server.requestTimeout = 0 // per-socket deadlines above; long-running calls (wait: true) may take minutes
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
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (socket.writable) socket.end(clientErrorAnswer(err))
    else socket.destroy()
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, opts.host, () => resolve())
  })
  return {
    port: (server.address() as AddressInfo).port,
    server,
    connections: () => sockets.size,
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
