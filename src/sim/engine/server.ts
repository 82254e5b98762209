import { randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:https'
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { TLSSocket } from 'node:tls'
import { WebSocketServer } from 'ws'
import type { Logger } from '../../log.js'
import type { EngineBackend } from './backend.js'
import { SessionRegistry, sessionKey } from './attach.js'
import { SessionState, type FaceShared } from './context.js'
import { parseEnginePath } from './paths.js'
import { serveSession } from './session.js'

export interface EngineFaceOptions {
  backend: EngineBackend
  host: string
  /** 0 picks a free port. */
  port: number
  tls: { key: string; cert: string; ca: string }
  /** Refuse upgrades without a client certificate signed by `tls.ca` (QLIK-PROTOCOLS §4.4). */
  requireClientCert: boolean
  /** Refuse upgrades without `X-Qlik-User` (§2.2; default true, the real behaviour is unconfirmed). */
  requireUserHeader?: boolean
  log: Logger
}

export interface EngineFace {
  port: number
  close(): Promise<void>
}

/** Starts the simulator's Engine (QIX) face: WSS JSON-RPC on one port (QLIK-PROTOCOLS §2, §4.4). */
export async function startEngineFace(opts: EngineFaceOptions): Promise<EngineFace> {
  const log = opts.log.child({ area: 'sim-engine' })
  const shared: FaceShared = { backend: opts.backend, log, reloading: new Set() }
  // The certificate is checked per upgrade, not in the handshake, so a refusal is a clean HTTP 403
  // the client can tell apart from a network failure.
  const server = createServer({
    key: opts.tls.key,
    cert: opts.tls.cert,
    ca: opts.tls.ca,
    requestCert: true,
    rejectUnauthorized: false,
  })
  const wss = new WebSocketServer({ noServer: true })
  const sessions = new SessionRegistry<SessionState>()

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refusal = refusalOf(req, opts)
    if (refusal !== undefined) {
      socket.on('error', () => undefined)
      log.info({ url: req.url, status: refusal.status }, `engine upgrade refused: ${refusal.reason}`)
      socket.end(`HTTP/1.1 ${refusal.status} ${refusal.reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const user = headerOf(req, 'x-qlik-user')
      const pathname = new URL(req.url ?? '/', 'wss://engine').pathname
      const path = parseEnginePath(req.url) ?? {}
      const route = path.appId !== undefined ? '' : /\/app\//.test(pathname) ? 'engineData' : '/'
      const { state, attached } = sessions.join(sessionKey(user, path, route), ws, () => {
        return new SessionState(randomUUID(), pathname, user)
      })
      log.debug({ session: state.id, path: state.path, user, attached }, 'engine session opened')
      serveSession(ws, state, shared, attached)
    })
  })
  // Plain HTTPS requests get what a real engine port gives a browser: nothing useful.
  server.on('request', (_req, res) => res.writeHead(426, { Connection: 'close' }).end())

  await listen(server, opts.host, opts.port)
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : opts.port
  log.info({ host: opts.host, port }, 'engine face listening')

  return {
    port,
    close: async () => {
      for (const client of wss.clients) client.terminate()
      wss.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

function refusalOf(req: IncomingMessage, opts: EngineFaceOptions): { status: number; reason: string } | undefined {
  if (parseEnginePath(req.url) === undefined) return { status: 404, reason: 'Not Found' }
  if (opts.requireClientCert && !(req.socket as TLSSocket).authorized) return { status: 403, reason: 'Forbidden' }
  if ((opts.requireUserHeader ?? true) && !isQlikUserHeader(headerOf(req, 'x-qlik-user'))) {
    return { status: 401, reason: 'Unauthorized' }
  }
  return undefined
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** `UserDirectory=<dir>; UserId=<id>` (§2.2), with or without the space. */
export function isQlikUserHeader(value: string | undefined): boolean {
  return value !== undefined && /UserDirectory\s*=\s*[^;]+;\s*UserId\s*=\s*\S+/i.test(value)
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
}
