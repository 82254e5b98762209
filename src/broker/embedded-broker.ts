import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Duplex } from 'node:stream'
import { Aedes, type Client } from 'aedes'
import levelPersistence from 'aedes-persistence-level'
import { Level } from 'level'
import type { Logger } from '../log.js'
import { guardPacketSize, type Oversize } from '../security/packet-size-guard.js'
import type { ServerTlsOptions } from '../security/tls.js'
import type { Sender } from './bus.js'
import { withFastPaths } from './fast-persistence.js'
import { startTcpListener, startTlsListener, startWsListener, type Listener, type ListenerKind } from './listeners.js'
import type { BrokerPolicy } from './policy.js'

type TlsListen = { host: string; port: number; tls: ServerTlsOptions }

export interface BrokerLimits {
  /** Largest PUBLISH payload; a bigger packet closes the connection before it is buffered. */
  maxPayloadBytes: number
  /** Open MQTT connections over all listeners; more get CONNACK 3 (server unavailable). */
  maxConnections: number
  /** How long a new connection may take to send CONNECT. */
  connectTimeoutMs: number
}

export const DEFAULT_BROKER_LIMITS: BrokerLimits = {
  maxPayloadBytes: 1_048_576,
  maxConnections: 1000,
  connectTimeoutMs: 10_000,
}

export interface EmbeddedBrokerOptions {
  dataDir: string
  mqtt: { host: string; port: number } | null
  ws: { host: string; port: number } | null
  mqtts?: TlsListen | null
  wss?: TlsListen | null
  limits?: BrokerLimits
  policy: BrokerPolicy
  log: Logger
  /** A client sent a packet over the size limit (its connection is already closing). */
  onOversize?: (info: Oversize & { sender: Sender | undefined }) => void
}

export type PublishedHook = (
  packet: { topic: string; payload: Buffer; qos: 0 | 1 | 2; retain: boolean },
  sender: Sender | undefined,
) => void

export interface EmbeddedBroker {
  aedes: Aedes
  listeners: Listener[]
  /** Called for every routed message, with the identity of the client that sent it. */
  onPublished(hook: PublishedHook): () => void
  /** The retained messages the broker holds under a filter. */
  retained(filter: string): Promise<Array<{ topic: string; payload: Buffer }>>
  close(): Promise<void>
}

function errorWithCode(message: string, returnCode: number): Error {
  return Object.assign(new Error(message), { returnCode })
}

/**
 * Aedes 1.x with LevelDB persistence under `<dataDir>/mqtt`: retained messages and clean:false
 * sessions survive restarts. Tested set: aedes 1.2.0 + aedes-persistence-level 9.2.0 + level 10
 * (MQTT-STACK.md A2); level 8 crashes the broker.
 */
export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const { policy, log } = opts
  const limits = opts.limits ?? DEFAULT_BROKER_LIMITS
  try {
    await mkdir(opts.dataDir, { recursive: true })
  } catch (err) {
    throw new Error(
      `Cannot create the data directory ${opts.dataDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { cause: err },
    )
  }
  const db = new Level<string, Buffer>(join(opts.dataDir, 'mqtt'), { valueEncoding: 'buffer' })
  try {
    await db.open()
  } catch (err) {
    // level says only "Database failed to open"; the reason (locked, corrupt, unreadable) is its cause.
    let reason = (err as Error & { cause?: Error }).cause?.message
    if (reason?.includes('LOCK')) reason += '; is another sensebus using this data dir?'
    throw new Error(
      `Cannot open the broker store in ${join(opts.dataDir, 'mqtt')}: ${(err as Error).message}${reason ? ` (${reason})` : ''}`,
      { cause: err },
    )
  }
  const senders = new WeakMap<Client, Sender>()
  const zeroLengthId = new WeakSet<Client>()
  const streams = new WeakMap<Duplex, { transport: ListenerKind; certSubject?: string; overLimit: boolean }>()
  let openConnections = 0
  const hooks = new Set<PublishedHook>()

  const persistence = withFastPaths(levelPersistence(db))
  const aedes = new Aedes({
    persistence,
    drainTimeout: 30_000,
    connectTimeout: limits.connectTimeoutMs,
    preConnect(client, packet, cb) {
      if (packet.clientId === '') zeroLengthId.add(client)
      cb(null, true)
    },
    authenticate(client, username, password, cb) {
      // [MQTT-3.1.3-8]: a zero-length client id needs CleanSession=1, else CONNACK 0x02.
      if (zeroLengthId.has(client) && !client.clean) return cb(errorWithCode('identifier rejected', 2) as never, false)
      const stream = streams.get(client.conn as unknown as Duplex)
      const transport = stream?.transport ?? 'mqtt'
      if (stream?.overLimit) {
        log.warn({ clientId: client.id, limit: limits.maxConnections }, 'connection refused: too many connections')
        return cb(errorWithCode('server unavailable: too many connections', 3) as never, false)
      }
      const certSubject = stream?.certSubject
      policy
        .authenticate({
          clientId: client.id,
          username: username ?? undefined,
          password: password ?? undefined,
          transport,
          ...(certSubject !== undefined ? { certSubject } : {}),
        })
        .then((identity) => {
          senders.set(client, { clientId: client.id, transport, ...identity })
          cb(null, true)
        })
        .catch((err: Error & { returnCode?: number }) => {
          log.info({ clientId: client.id, username, reason: err.message }, 'connection refused')
          cb(errorWithCode(err.message, err.returnCode ?? 5) as never, false)
        })
    },
    authorizePublish(client, packet, cb) {
      if (packet.topic.startsWith('$SYS/')) return cb(new Error('$SYS/ topics are reserved'))
      const sender = client ? senders.get(client) : undefined
      if (sender && !policy.canPublish(sender, packet.topic)) {
        log.warn({ clientId: sender.clientId, topic: packet.topic }, 'publish denied; closing the connection')
        return cb(new Error('publish not authorized'))
      }
      cb(null)
    },
    authorizeSubscribe(client, sub, cb) {
      const sender = senders.get(client)
      // Aedes has already closed the connection on a malformed filter ([MQTT-4.8.0-1]) by now.
      if (sender && !policy.canSubscribe(sender, sub.topic)) {
        log.info({ clientId: client.id, filter: sub.topic }, 'subscription refused')
        return cb(null, null) // SUBACK 0x80
      }
      cb(null, sub)
    },
    published(packet, client, cb) {
      // Acknowledge first: this runs inside the publish pipeline and must never wait on a handler.
      cb()
      if (hooks.size === 0 || packet.topic.startsWith('$SYS/')) return
      const msg = {
        topic: packet.topic,
        payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
        qos: packet.qos,
        retain: packet.retain,
      }
      const sender = client ? senders.get(client) : undefined
      for (const hook of hooks) hook(msg, sender)
    },
  })
  await aedes.listen()
  aedes.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'client error'))
  aedes.on('connectionError', (_client, err) => log.debug({ err: err.message }, 'connection error'))
  aedes.on('clientDisconnect', (client) => {
    const sender = senders.get(client)
    if (sender) policy.disconnected?.(sender)
  })

  const handle = (stream: Duplex, transport: ListenerKind, certSubject?: string) => {
    // Counted per socket, not per CONNECT, so clients that never log in use up the budget too.
    openConnections++
    stream.once('close', () => openConnections--)
    streams.set(stream, {
      transport,
      overLimit: openConnections > limits.maxConnections,
      ...(certSubject !== undefined ? { certSubject } : {}),
    })
    guardPacketSize(stream, limits.maxPayloadBytes, (info) => {
      const client = (stream as Duplex & { client?: Client }).client
      const sender = client ? senders.get(client) : undefined
      log.warn(
        {
          clientId: sender?.clientId ?? client?.id,
          topic: info.topic,
          declaredBytes: info.declaredBytes,
          limit: limits.maxPayloadBytes,
        },
        'packet too large; closing the connection',
      )
      opts.onOversize?.({ ...info, sender })
    })
    aedes.handle(stream)
  }
  // A WebSocket message holds at least one whole packet; the guard above does the precise check.
  const maxWsMessage = limits.maxPayloadBytes + 70_000
  const listeners: Listener[] = []
  try {
    if (opts.mqtt) listeners.push(await startTcpListener(opts.mqtt.host, opts.mqtt.port, handle))
    if (opts.ws) listeners.push(await startWsListener(opts.ws.host, opts.ws.port, handle, { maxPayload: maxWsMessage }))
    if (opts.mqtts) listeners.push(await startTlsListener(opts.mqtts.host, opts.mqtts.port, opts.mqtts.tls, handle))
    if (opts.wss)
      listeners.push(
        await startWsListener(opts.wss.host, opts.wss.port, handle, { tls: opts.wss.tls, maxPayload: maxWsMessage }),
      )
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close()))
    await new Promise<void>((resolve) => aedes.close(() => resolve()))
    await db.close()
    throw err
  }

  return {
    aedes,
    listeners,
    async retained(filter) {
      const out: Array<{ topic: string; payload: Buffer }> = []
      for await (const packet of persistence.createRetainedStreamCombi([filter]) as AsyncIterable<{
        topic: string
        payload: Buffer
      }>) {
        out.push({ topic: packet.topic, payload: Buffer.from(packet.payload) })
      }
      return out
    },
    onPublished(hook) {
      hooks.add(hook)
      return () => hooks.delete(hook)
    },
    async close() {
      await Promise.all(listeners.map((l) => l.close()))
      await new Promise<void>((resolve) => aedes.close(() => resolve()))
      // Closing the DB while a retained scan still iterates kills the process (MQTT-STACK.md A1):
      // give in-flight persistence work a turn to finish first.
      await new Promise((r) => setTimeout(r, 20))
      await db.close()
    },
  }
}
