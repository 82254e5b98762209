import { createServer as createHttpServer, type Server as HttpServer, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { createServer as createTlsServer, TLSSocket } from 'node:tls'
import { createWebSocketStream, WebSocketServer } from 'ws'
import { type ServerTlsOptions, verifiedCommonName } from '../net/tls.js'

export type ListenerKind = 'mqtt' | 'ws' | 'mqtts' | 'wss'

/** `certSubject` is the CN of a client certificate the CA verified (TLS listeners only). */
type Handle = (stream: Duplex, transport: ListenerKind, certSubject?: string) => void

export interface Listener {
  kind: ListenerKind
  host: string
  port: number
  /** No new connections; those open stay (shutdown: they still get their answers). */
  stopAccepting(): void
  close(): Promise<void>
}

function listen(server: NetServer | HttpServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve((server.address() as AddressInfo).port)
    })
  })
}

/** Stops listening; `close` later ends the connections (server.close's callback waits for them). */
function stopAccepting(server: NetServer | HttpServer): void {
  if (server.listening) server.close()
}

/** Tracks sockets so shutdown does not wait for idle keep-alive clients. */
function closeServer(server: NetServer | HttpServer, sockets: Set<Duplex>): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve())
    for (const s of sockets) s.destroy()
  })
}

/**
 * MQTT over TCP. noDelay matters: without it a QoS 1 request/response round trip waits for Nagle and
 * delayed ACKs, 88 ms instead of 0.2 ms (MQTT-STACK.md B5).
 */
export async function startTcpListener(host: string, port: number, handle: Handle): Promise<Listener> {
  const sockets = new Set<Duplex>()
  const server = createNetServer({ noDelay: true }, (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    handle(socket, 'mqtt')
  })
  const bound = await listen(server, host, port)
  return {
    kind: 'mqtt',
    host,
    port: bound,
    stopAccepting: () => stopAccepting(server),
    close: () => closeServer(server, sockets),
  }
}

/** MQTT over TLS (mqtts); the client certificate, when verified, travels with the stream. */
export async function startTlsListener(
  host: string,
  port: number,
  tls: ServerTlsOptions,
  handle: Handle,
): Promise<Listener> {
  const sockets = new Set<Duplex>()
  const server = createTlsServer(tls, (socket: TLSSocket) => {
    socket.setNoDelay(true)
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    handle(socket, 'mqtts', verifiedCommonName(socket))
  })
  // A failed handshake (no or a bad client certificate under 'require') only concerns that socket.
  server.on('tlsClientError', (_err, socket) => socket.destroy())
  const bound = await listen(server, host, port)
  return {
    kind: 'mqtts',
    host,
    port: bound,
    stopAccepting: () => stopAccepting(server),
    close: () => closeServer(server, sockets),
  }
}

export interface WsListenerOptions {
  /** wss: serve over HTTPS with these options. */
  tls?: ServerTlsOptions
  /** Largest WebSocket message accepted; bigger ones close with 1009. */
  maxPayload?: number
  /** Origins whose pages may connect ('*': any). A browser always sends Origin; other clients need not. */
  origins?: readonly string[]
}

/**
 * A page on any web site can open a WebSocket to localhost; without this check it could drive a local
 * sensebus with the default (anonymous on loopback) config. Browsers cannot forge the Origin header.
 */
function originAllowed(origin: string | undefined, origins: readonly string[]): boolean {
  return origin === undefined || origins.includes('*') || origins.includes(origin)
}

/** MQTT over WebSocket on its own port (browsers and MQTT Explorer-style tools); subprotocol `mqtt`. */
export async function startWsListener(
  host: string,
  port: number,
  handle: Handle,
  opts: WsListenerOptions = {},
): Promise<Listener> {
  const sockets = new Set<Duplex>()
  const upgradeRequired = (_req: unknown, res: ServerResponse) => {
    res
      .writeHead(426, { 'content-type': 'application/json' })
      .end('{"code":"UPGRADE_REQUIRED","message":"Connect with an MQTT WebSocket client"}')
  }
  const kind: ListenerKind = opts.tls ? 'wss' : 'ws'
  const http = opts.tls ? createHttpsServer(opts.tls, upgradeRequired) : createHttpServer(upgradeRequired)
  http.on('connection', (socket: Socket) => {
    socket.setNoDelay(true)
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  const wss = new WebSocketServer({
    server: http,
    ...(opts.maxPayload ? { maxPayload: opts.maxPayload } : {}),
    verifyClient: ({ origin }: { origin?: string }, done: (ok: boolean, code?: number, message?: string) => void) =>
      originAllowed(origin, opts.origins ?? [])
        ? done(true)
        : done(false, 403, 'Origin not allowed: list it in broker.ws.origins'),
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : protocols.has('mqttv3.1') ? 'mqttv3.1' : false),
  })
  wss.on('connection', (ws, req) => {
    const certSubject = req.socket instanceof TLSSocket ? verifiedCommonName(req.socket) : undefined
    handle(createWebSocketStream(ws), kind, certSubject)
  })
  const bound = await listen(http, host, port)
  return {
    kind,
    host,
    port: bound,
    stopAccepting: () => stopAccepting(http),
    close: async () => {
      for (const client of wss.clients) client.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
      await closeServer(http, sockets)
    },
  }
}
