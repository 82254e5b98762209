import type { WebSocket } from 'ws'
import type { EnginePath } from './paths.js'

/**
 * Which sockets share one engine session. A real engine attaches a second socket of the same user to
 * the session the first one opened for the same app (it answers `OnConnected` with SESSION_ATTACHED,
 * and the app is already open there, so OpenDoc gives 1002). An `/identity/<id>` segment in the URL
 * keys a separate session; that is how a client runs two operations on one app side by side.
 */
export class SessionRegistry<S> {
  private readonly live = new Map<string, { state: S; sockets: Set<WebSocket> }>()

  /** The session this socket joins: a live one with the same key, or a new one from `create`. */
  join(key: string, socket: WebSocket, create: () => S): { state: S; attached: boolean } {
    const existing = this.live.get(key)
    // A socket that has begun closing no longer holds the session, so a client that closes and
    // reconnects right away gets a fresh one, as it would from a real engine.
    const open = existing ? [...existing.sockets].filter((s) => s.readyState === s.OPEN) : []
    if (existing && open.length > 0) {
      existing.sockets.add(socket)
      socket.once('close', () => this.leave(key, socket))
      return { state: existing.state, attached: true }
    }
    const entry = { state: create(), sockets: new Set([socket]) }
    this.live.set(key, entry)
    socket.once('close', () => this.leave(key, socket))
    return { state: entry.state, attached: false }
  }

  private leave(key: string, socket: WebSocket): void {
    const entry = this.live.get(key)
    if (!entry) return
    entry.sockets.delete(socket)
    if (entry.sockets.size === 0) this.live.delete(key)
  }
}

/** user + app (or route) + identity: what a real engine keys a session on. */
export function sessionKey(user: string | undefined, path: EnginePath, route: string): string {
  const who = normalizedUser(user)
  const app = path.appId ?? route
  return JSON.stringify([who, path.prefix ?? '', app, path.identity ?? ''])
}

/** `UserDirectory=LAB; UserId=Goran` and `userdirectory=lab;userid=goran` are the same user. */
function normalizedUser(header: string | undefined): string {
  const m = /UserDirectory\s*=\s*([^;]+);\s*UserId\s*=\s*(\S+)/i.exec(header ?? '')
  return m ? `${(m[1] as string).trim()}\\${(m[2] as string).trim()}`.toLowerCase() : ''
}
