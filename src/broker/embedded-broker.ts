import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Duplex } from 'node:stream'
import { Aedes, type Client } from 'aedes'
import levelPersistence from 'aedes-persistence-level'
import { Level } from 'level'
import type { Identity } from '../core/identity.js'
import type { Logger } from '../log.js'
import type { ServerTlsOptions } from '../net/tls.js'
import { type RetainedSeed, withFastPaths } from './fast-persistence.js'
import { FlowControl } from './flow-control.js'
import { brokerHooks, type PublishedHook, type StreamInfo } from './hooks.js'
import { dedupeByMessage } from './dedupe.js'
import { type Listener, type ListenerKind, startTcpListener, startTlsListener, startWsListener } from './listeners.js'
import { guardPacketSize, type Oversize } from './packet-size-guard.js'
import { capReads, type ReadGate } from './read-cap.js'
import type { BrokerPolicy } from './policy.js'
import { DEFAULT_RETAINED_LIMITS, type RetainedLimits, RetainedQuota } from './retained-quota.js'
import { retainedDelivery } from './retained-delivery.js'
import { RoutingGauge } from './routing-gauge.js'
import { SessionOwners } from './session-owners.js'

export type { PublishedHook } from './hooks.js'

/** Unfinished messages one client may have before it is held back, and when it is let go again. */
const FLOW_HIGH_WATER = 64
const FLOW_LOW_WATER = 16
/** Bytes Aedes takes from one connection per batch (a few hundred small packets). */
const READ_CAP_BYTES = 8 * 1024

type TlsListen = { host: string; port: number; tls: ServerTlsOptions }

export interface BrokerLimits {
  /** Largest PUBLISH payload; a bigger packet closes the connection before it is buffered. */
  maxPayloadBytes: number
  /** Open MQTT connections over all listeners; more get CONNACK 3 (server unavailable). */
  maxConnections: number
  /** How long a new connection may take to send CONNECT. */
  connectTimeoutMs: number
  /** Unsent bytes a client may have waiting before QoS 0 messages to it are dropped and its own publishes wait. */
  maxClientBufferBytes: number
  /** Quotas on the retained messages clients publish. */
  retained: RetainedLimits
}

export const DEFAULT_BROKER_LIMITS: BrokerLimits = {
  maxPayloadBytes: 1_048_576,
  maxConnections: 1000,
  connectTimeoutMs: 10_000,
  maxClientBufferBytes: 8 * 1024 * 1024,
  retained: DEFAULT_RETAINED_LIMITS,
}

export interface EmbeddedBrokerOptions {
  dataDir: string
  mqtt: { host: string; port: number } | null
  ws: { host: string; port: number } | null
  /** Web origins allowed to connect over ws and wss (see listeners.ts). */
  wsOrigins?: readonly string[]
  mqtts?: TlsListen | null
  wss?: TlsListen | null
  limits?: BrokerLimits
  policy: BrokerPolicy
  /** Admin may connect with another user's client id; otherwise such a CONNECT gets return code 2. */
  adminTakesOverClientIds?: boolean
  log: Logger
  /** A client's publish was refused by the policy (ACL or a `$` topic): its connection closed, or dropped. */
  onDeniedPublish?: (outcome: 'closed' | 'dropped') => void
  /** A client sent a packet over the size limit (its connection is already closing). */
  onOversize?: (info: Oversize & { sender: Identity | undefined }) => void
}

export interface EmbeddedBroker {
  aedes: Aedes
  /** The open ports, once `listen()` ran. */
  listeners: Listener[]
  /**
   * Opens the MQTT ports. Apart from the start so the app opens them only once it answers requests:
   * a request sent earlier would be acknowledged (PUBACK) and then never answered.
   */
  listen(): Promise<Listener[]>
  /** Counts each client's unfinished messages and holds a client back that has too many. */
  flow: FlowControl
  /** Called for every routed message, with the identity of the client that sent it. */
  onPublished(hook: PublishedHook): () => void
  /** The retained messages the broker holds under a filter. */
  retained(filter: string): Promise<Array<{ topic: string; payload: Buffer }>>
  /** See `Bus.ownRetained`. */
  ownRetained(prefix: string): Promise<RetainedSeed>
  /** The accounts of retained messages published for clients (broker.retained limits). */
  retainedQuota: RetainedQuota
  /**
   * The start of a shutdown: no new connections and no more packets read from connected clients,
   * once every packet already read has been routed. Clients stay connected to receive their answers.
   */
  quiesce(): Promise<void>
  close(): Promise<void>
}

/** The longest a shutdown step waits for packets to be routed or answers to be written out. */
const QUIESCE_WAIT_MS = 3_000

/** Resolves once every client's socket has written what it was given, or after `maxMs`. */
async function flushed(clients: Client[], maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs
  const pending = () =>
    clients.some((c) => ((c.conn as unknown as { writableLength?: number }).writableLength ?? 0) > 0)
  while (pending() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
}

/**
 * Ends each connection with a FIN after its last answer and waits for the client to close its side
 * (or `maxMs`): destroying a socket outright may reset it and lose answers still in flight.
 */
async function halfClosed(clients: Client[], maxMs: number): Promise<void> {
  const closing = clients.map((c) => {
    const conn = c.conn as unknown as Duplex
    if (conn.destroyed) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, maxMs)
      conn.once('close', () => {
        clearTimeout(timer)
        resolve()
      })
      conn.end()
    })
  })
  await Promise.all(closing)
}

async function openDb(dataDir: string): Promise<Level<string, Buffer>> {
  try {
    await mkdir(dataDir, { recursive: true })
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message
    throw new Error(`Cannot create the data directory ${dataDir}: ${reason}`, { cause: err })
  }
  const path = join(dataDir, 'mqtt')
  const db = new Level<string, Buffer>(path, { valueEncoding: 'buffer' })
  try {
    await db.open()
  } catch (err) {
    // level says only "Database failed to open"; the reason (locked, corrupt, unreadable) is its cause.
    let reason = (err as Error & { cause?: Error }).cause?.message
    if (reason?.includes('LOCK')) reason += '; is another sensebus using this data dir?'
    throw new Error(
      `Cannot open the broker store in ${path}: ${(err as Error).message}${reason ? ` (${reason})` : ''}`,
      {
        cause: err,
      },
    )
  }
  return db
}

/**
 * Aedes 1.x with LevelDB persistence under `<dataDir>/mqtt`: retained messages and clean:false
 * sessions survive restarts. Tested set: aedes 1.2.0 + aedes-persistence-level 9.2.0 + level 10
 * (MQTT-STACK.md A2); level 8 crashes the broker.
 */
export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const { policy, log } = opts
  const limits = opts.limits ?? DEFAULT_BROKER_LIMITS
  const db = await openDb(opts.dataDir)
  const identities = new WeakMap<Client, Identity>()
  const streams = new WeakMap<Duplex, StreamInfo>()
  const hooks = new Set<PublishedHook>()
  const flow = new FlowControl(FLOW_HIGH_WATER, FLOW_LOW_WATER)
  let openConnections = 0
  const gate: ReadGate = { held: false }
  const routing = new RoutingGauge()
  const owners = await SessionOwners.open(db)
  const retained = await RetainedQuota.open(db, limits.retained)

  const persistence = withFastPaths(levelPersistence(db))
  const policyHooks = brokerHooks({
    policy,
    log,
    streams,
    identities,
    hooks,
    flow,
    owners,
    retained,
    routing,
    adminTakesOverClientIds: opts.adminTakesOverClientIds ?? false,
    limits,
    ...(opts.onDeniedPublish ? { onDeniedPublish: opts.onDeniedPublish } : {}),
  })
  const aedes = new Aedes({
    persistence,
    // No limit on deliveries under way in Aedes' emitter: a limited one queues every message behind a
    // flood (one FIFO for all clients, drained with Array#shift), and a queue of messages nobody
    // subscribes to unwinds recursively until the stack overflows (mqemitter's released → _do). Floods
    // are held back per client instead (flow-control.ts), and slow readers lose QoS 0 (maxClientBufferBytes).
    concurrency: 0,
    drainTimeout: 30_000,
    connectTimeout: limits.connectTimeoutMs,
    ...policyHooks,
  })
  await aedes.listen()
  aedes.on(
    'subscribe',
    retainedDelivery({
      matching: (filters) => persistence.retainedMatching(filters),
      authorizeForward: policyHooks.authorizeForward as NonNullable<typeof policyHooks.authorizeForward>,
      onError: (client, err) => log.debug({ clientId: client.id, err: err.message }, 'retained delivery failed'),
    }),
  )
  aedes.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'client error'))
  aedes.on('connectionError', (_client, err) => log.debug({ err: err.message }, 'connection error'))
  aedes.on('clientDisconnect', (client) => {
    owners.release(client)
    const identity = identities.get(client)
    if (identity) policy.disconnected?.(identity)
  })

  const countClosed = () => {
    openConnections--
  }
  const oversize = (stream: Duplex, info: Oversize) => {
    const client = (stream as Duplex & { client?: Client }).client
    const sender = client ? identities.get(client) : undefined
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
  }
  const handle = (stream: Duplex, transport: ListenerKind, certSubject?: string) => {
    // Counted per socket, not per CONNECT, so clients that never log in use up the budget too.
    openConnections++
    // `on`, not `once`: 'close' comes once anyway, and once() allocates a wrapper per connection (issue #10).
    stream.on('close', countClosed)
    const overLimit = openConnections > limits.maxConnections
    streams.set(stream, { transport, overLimit, ...(certSubject !== undefined ? { certSubject } : {}) })
    capReads(stream, READ_CAP_BYTES, gate)
    guardPacketSize(stream, limits.maxPayloadBytes, oversize)
    dedupeByMessage(aedes.handle(stream))
  }
  // A WebSocket message holds at least one whole packet; the guard above does the precise check.
  const maxWsMessage = limits.maxPayloadBytes + 70_000
  const listeners: Listener[] = []
  const listen = async (): Promise<Listener[]> => {
    try {
      if (opts.mqtt) listeners.push(await startTcpListener(opts.mqtt.host, opts.mqtt.port, handle))
      const origins = opts.wsOrigins ?? []
      if (opts.ws) {
        listeners.push(await startWsListener(opts.ws.host, opts.ws.port, handle, { maxPayload: maxWsMessage, origins }))
      }
      if (opts.mqtts) listeners.push(await startTlsListener(opts.mqtts.host, opts.mqtts.port, opts.mqtts.tls, handle))
      if (opts.wss) {
        listeners.push(
          await startWsListener(opts.wss.host, opts.wss.port, handle, {
            tls: opts.wss.tls,
            maxPayload: maxWsMessage,
            origins,
          }),
        )
      }
    } catch (err) {
      // The broker itself is closed by its owner (close() below); only the ports opened so far go here.
      await Promise.all(listeners.splice(0).map((l) => l.close()))
      throw err
    }
    return listeners
  }

  return {
    aedes,
    listeners,
    listen,
    flow,
    retainedQuota: retained,
    async retained(filter) {
      return persistence.retainedNow(filter).map((p) => ({ topic: p.topic, payload: p.payload as Buffer }))
    },
    ownRetained: (prefix) => persistence.ownRetained(prefix),
    onPublished(hook) {
      hooks.add(hook)
      return () => hooks.delete(hook)
    },
    async quiesce() {
      for (const l of listeners) l.stopAccepting()
      gate.held = true
      await routing.idle(QUIESCE_WAIT_MS)
    },
    async close() {
      for (const l of listeners) l.stopAccepting()
      gate.held = true
      // Answers already written to a client's socket go out before the connection is destroyed.
      const clients = Object.values((aedes as unknown as { clients: Record<string, Client> }).clients)
      await flushed(clients, QUIESCE_WAIT_MS)
      await halfClosed(clients, QUIESCE_WAIT_MS)
      await Promise.all(listeners.map((l) => l.close()))
      await new Promise<void>((resolve) => aedes.close(() => resolve()))
      // Closing the DB while a retained scan still iterates kills the process (MQTT-STACK.md A1):
      // give in-flight persistence work a turn to finish first.
      await new Promise((r) => setTimeout(r, 20))
      await db.close()
    },
  }
}
