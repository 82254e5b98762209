import { createSocket, type Socket } from 'node:dgram'
import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import type { Logger } from '../../log.js'
import { parseDatagram, type TaskDatagram } from './datagram.js'

export interface ReceiverOptions {
  host: string
  port: number
  allowedSources: string[]
  maxDatagramBytes: number
  maxPerSourcePerMinute: number
  maxFieldLength: number
}

export interface ReceiverStats {
  received: number
  accepted: number
  rejectedSource: number
  tooLarge: number
  rateLimited: number
  malformed: number
}

/** `::ffff:10.0.0.5` and `10.0.0.5` are one sender. */
const plainAddress = (a: string) => a.replace(/^::ffff:/i, '').toLowerCase()

/** Allowed sources may be names: resolved once at start (all their addresses). */
async function resolveSources(sources: string[], log: Logger): Promise<Set<string>> {
  const out = new Set<string>()
  for (const s of sources) {
    if (isIP(s)) {
      out.add(plainAddress(s))
      continue
    }
    try {
      for (const a of await lookup(s, { all: true })) out.add(plainAddress(a.address))
    } catch (err) {
      log.warn({ err: (err as Error).message, source: s }, 'allowed UDP source does not resolve; ignored')
    }
  }
  return out
}

/**
 * The UDP side of the log appender (QLIK-PROTOCOLS §3.1): source allow-list, size limit, a per-source
 * rate limit, then parsing. What passes goes to `onDatagram`; the rest is counted and logged (at most
 * once a minute per source and reason, so a flood cannot flood the log).
 */
export class TaskEventReceiver {
  readonly stats: ReceiverStats = {
    received: 0,
    accepted: 0,
    rejectedSource: 0,
    tooLarge: 0,
    rateLimited: 0,
    malformed: 0,
  }
  private socket: Socket | undefined
  private allowed = new Set<string>()
  private readonly perSource = new Map<string, { windowStart: number; count: number }>()
  private readonly logged = new Map<string, number>()

  constructor(
    private readonly opts: ReceiverOptions,
    private readonly log: Logger,
    private readonly onDatagram: (d: TaskDatagram, raw: string, source: string) => void,
  ) {}

  async start(): Promise<{ host: string; port: number }> {
    this.allowed = await resolveSources(this.opts.allowedSources, this.log)
    if (this.opts.allowedSources.length === 0 && !['127.0.0.1', '::1', 'localhost'].includes(this.opts.host))
      this.log.warn('the UDP alert receiver accepts datagrams from any source: set udp.allowedSources')
    const socket = createSocket({ type: isIP(this.opts.host) === 6 ? 'udp6' : 'udp4', reuseAddr: false })
    this.socket = socket
    socket.on('message', (msg, rinfo) => this.receive(msg, rinfo.address))
    socket.on('error', (err) => this.log.error({ err }, 'UDP alert receiver error'))
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.bind(this.opts.port, this.opts.host, () => {
        socket.off('error', reject)
        resolve()
      })
    })
    const a = socket.address()
    return { host: a.address, port: a.port }
  }

  close(): Promise<void> {
    const socket = this.socket
    this.socket = undefined
    if (!socket) return Promise.resolve()
    return new Promise((resolve) => socket.close(() => resolve()))
  }

  private receive(msg: Buffer, address: string): void {
    this.stats.received++
    const source = plainAddress(address)
    if (this.allowed.size > 0 && !this.allowed.has(source)) {
      this.reject('rejectedSource', source)
      return
    }
    if (msg.length > this.opts.maxDatagramBytes) {
      this.reject('tooLarge', source)
      return
    }
    if (!this.withinRate(source)) {
      this.reject('rateLimited', source)
      return
    }
    const raw = msg.toString('utf8')
    const parsed = parseDatagram(raw, this.opts.maxFieldLength)
    if (!parsed.ok) {
      this.reject('malformed', source, parsed.reason)
      return
    }
    this.stats.accepted++
    this.onDatagram(parsed.datagram, raw, source)
  }

  private withinRate(source: string): boolean {
    const now = Date.now()
    const w = this.perSource.get(source)
    if (!w || now - w.windowStart >= 60_000) {
      this.perSource.set(source, { windowStart: now, count: 1 })
      if (this.perSource.size > 10_000) this.perSource.clear()
      return true
    }
    w.count++
    return w.count <= this.opts.maxPerSourcePerMinute
  }

  private reject(reason: Exclude<keyof ReceiverStats, 'received' | 'accepted'>, source: string, detail?: string): void {
    this.stats[reason]++
    const key = `${reason}|${source}`
    const now = Date.now()
    if ((this.logged.get(key) ?? 0) + 60_000 > now) return
    if (this.logged.size > 10_000) this.logged.clear()
    this.logged.set(key, now)
    this.log.warn({ source, reason, ...(detail ? { detail } : {}) }, 'task event datagram dropped')
  }
}
