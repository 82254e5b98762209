import type { Duplex } from 'node:stream'
import type { AedesOptions, Client } from 'aedes'
import { CLI_CLIENT_PREFIX, type Identity } from '../core/identity.js'
import type { Logger } from '../log.js'
import type { FlowControl } from './flow-control.js'
import type { BrokerPolicy } from './policy.js'
import type { RetainedQuota } from './retained-quota.js'
import type { RoutingGauge } from './routing-gauge.js'
import type { SessionOwners } from './session-owners.js'
import { onDrainOrClose } from './drain.js'

export type PublishedHook = (
  packet: { topic: string; payload: Buffer; qos: 0 | 1 | 2; retain: boolean },
  sender: Identity | undefined,
) => void

/** What the listeners learned about a socket before Aedes sees its CONNECT. */
export interface StreamInfo {
  transport: Identity['transport']
  certSubject?: string
  /** Over `broker.maxConnections`: the CONNECT gets return code 3. */
  overLimit: boolean
}

/** Bytes written to a client's connection that it has not taken yet. */
function unsent(client: Client): number {
  return (client.conn as unknown as { writableLength?: number }).writableLength ?? 0
}

function drained(client: Client): Promise<void> {
  return new Promise((resolve) => onDrainOrClose(client.conn as unknown as Duplex, resolve))
}

/**
 * [MQTT-1.5.3-1/2]: a topic with ill-formed UTF-8 or U+0000 must close the connection. The packet
 * parser has already decoded the bytes, turning ill-formed ones into U+FFFD; a topic that really
 * holds U+FFFD is refused too (a replacement character has no use in a topic name).
 */
const ILL_FORMED_TOPIC = /[\u0000\uFFFD]/

/**
 * Where a denied publish is routed instead of its topic. `$` topics match no `#` or `+` filter
 * ([MQTT-4.7.2-1]) and authorizeForward never delivers this one, so the message reaches nobody.
 */
const DROPPED_TOPIC = '$sensebus/dropped'
/** Denied topics are logged, but a client chooses them: up to 64 KB each. */
const MAX_LOGGED_TOPIC = 256

function errorWithCode(message: string, returnCode: number): Error {
  return Object.assign(new Error(message), { returnCode })
}

/**
 * Aedes' policy hooks, built from a BrokerPolicy: who gets in (and as whom), who may publish and
 * subscribe where, and the `published` hook that hands every routed message on with its sender.
 */
export function brokerHooks(opts: {
  policy: BrokerPolicy
  log: Logger
  streams: WeakMap<Duplex, StreamInfo>
  identities: WeakMap<Client, Identity>
  hooks: Set<PublishedHook>
  flow: FlowControl
  owners: SessionOwners
  /** Per-user and global accounts of the retained messages clients publish. */
  retained: RetainedQuota
  /** Client packets accepted but not yet routed (shutdown waits for them). */
  routing: RoutingGauge
  /** Admin may connect with another user's client id (and take its session over). */
  adminTakesOverClientIds: boolean
  limits: { maxConnections: number; maxClientBufferBytes: number }
  /** Told of every publish the policy refused (metrics). */
  onDeniedPublish?: (outcome: 'closed' | 'dropped') => void
}): Pick<
  AedesOptions,
  'preConnect' | 'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward' | 'published'
> {
  const { policy, log, identities } = opts
  const zeroLengthId = new WeakSet<Client>()
  // Asked once per client: most clients' grants need no per-message check.
  const checked = new WeakMap<Client, boolean>()
  const checksEachMessage = (client: Client) => {
    let yes = checked.get(client)
    if (yes === undefined) {
      const identity = identities.get(client)
      yes = identity !== undefined && (policy.filtersDelivery?.(identity) ?? false)
      checked.set(client, yes)
    }
    return yes
  }
  const readable = (client: Client, topic: string) => {
    const identity = identities.get(client)
    return identity === undefined || (policy.canRead ?? policy.canSubscribe)(identity, topic)
  }
  return {
    preConnect(client, packet, cb) {
      if (packet.clientId === '') zeroLengthId.add(client)
      cb(null, true)
    },
    authenticate(client, username, password, cb) {
      // [MQTT-3.1.3-8]: a zero-length client id needs CleanSession=1, else CONNACK 0x02.
      if (zeroLengthId.has(client) && !client.clean) return cb(errorWithCode('identifier rejected', 2) as never, false)
      const conn = client.conn as unknown as Duplex
      const stream = opts.streams.get(conn)
      // Needed only for this one CONNECT: an idle connection should not keep it (issue #10).
      opts.streams.delete(conn)
      const transport = stream?.transport ?? 'mqtt'
      if (stream?.overLimit) {
        log.warn({ clientId: client.id, limit: opts.limits.maxConnections }, 'connection refused: too many connections')
        return cb(errorWithCode('server unavailable: too many connections', 3) as never, false)
      }
      policy
        .authenticate({
          clientId: client.id,
          username: username ?? undefined,
          password: password ?? undefined,
          transport,
          certSubject: stream?.certSubject,
        })
        .then(async ({ user, roles, tokenName }) => {
          const claim = {
            client,
            clientId: client.id,
            user,
            mayTakeOver: opts.adminTakesOverClientIds && roles.includes('admin'),
          }
          const holder = opts.owners.conflict(claim)
          if (holder !== undefined) {
            log.warn({ clientId: client.id, username: user }, "connection refused: the client id is another user's")
            return cb(errorWithCode('identifier rejected: the client id belongs to another user', 2) as never, false)
          }
          await opts.owners.claim(claim)
          const via = client.id.startsWith(CLI_CLIENT_PREFIX) ? 'cli' : 'mqtt'
          identities.set(client, {
            via,
            transport,
            user,
            roles,
            clientId: client.id,
            ...(tokenName ? { tokenName } : {}),
          })
          cb(null, true)
        })
        .catch((err: Error & { returnCode?: number }) => {
          log.info({ clientId: client.id, username, reason: err.message }, 'connection refused')
          cb(errorWithCode(err.message, err.returnCode ?? 5) as never, false)
        })
    },
    authorizePublish(client, packet, cb) {
      if (ILL_FORMED_TOPIC.test(packet.topic)) {
        log.warn({ clientId: client?.id }, 'publish topic is not well-formed UTF-8 or holds U+0000; closing')
        return cb(new Error('ill-formed topic'))
      }
      const identity = client ? identities.get(client) : undefined
      const denied =
        packet.topic.startsWith('$') || (identity !== undefined && !policy.canPublish(identity, packet.topic))
      if (denied) {
        const topic = packet.topic.slice(0, MAX_LOGGED_TOPIC)
        const who = { clientId: client?.id, username: identity?.user, topic }
        if (packet.topic.startsWith('$sensebus/') || policy.onDeniedPublish?.(identity, packet.topic) !== 'drop') {
          log.warn(who, 'publish denied; closing the connection')
          opts.onDeniedPublish?.('closed')
          return cb(new Error('publish not authorized'))
        }
        // Acknowledged (QoS 1/2 as usual) and routed to a sink nobody receives: see authorizeForward.
        log.warn(who, 'publish denied; acknowledged and dropped')
        opts.onDeniedPublish?.('dropped')
        packet.topic = DROPPED_TOPIC
        packet.retain = false
        if (client) opts.routing.enter()
        return cb(null)
      }
      if (identity && packet.retain && policy.mayRetain?.(identity, packet.topic) === false) packet.retain = false
      if (packet.retain) {
        const bytes = typeof packet.payload === 'string' ? Buffer.byteLength(packet.payload) : packet.payload.length
        if (!opts.retained.admit(identity?.user ?? '', packet.topic, bytes)) {
          // MQTT 3.1.1 cannot say why; the message still goes out live, it is just not kept.
          log.warn(
            { clientId: client?.id, username: identity?.user, topic: packet.topic.slice(0, MAX_LOGGED_TOPIC), bytes },
            'retained quota reached; delivered without retaining',
          )
          packet.retain = false
        }
      }
      if (client) opts.routing.enter()
      cb(null)
    },
    authorizeForward(client, packet) {
      if (packet.topic === DROPPED_TOPIC) return null
      // A resumed session's queue was filled under the subscriptions of an earlier connection; the
      // roles may have changed since (a config edit, a restart), so it delivers only what they allow now.
      if ((!client.clean || checksEachMessage(client)) && !readable(client, packet.topic)) return null
      // A client that does not read its socket loses QoS 0 messages rather than growing our memory
      // ([MQTT-4.3.1]: at most once); QoS 1 and 2 wait, and Aedes drops a client that never drains.
      if (packet.qos === 0 && unsent(client) > opts.limits.maxClientBufferBytes) return null
      return packet
    },
    authorizeSubscribe(client, sub, cb) {
      if (ILL_FORMED_TOPIC.test(sub.topic)) {
        log.warn({ clientId: client.id }, 'topic filter is not well-formed UTF-8 or holds U+0000; closing')
        return cb(new Error('ill-formed topic filter'), null)
      }
      const identity = identities.get(client)
      // Aedes has already closed the connection on a malformed filter ([MQTT-4.8.0-1]) by now.
      if (identity && !policy.canSubscribe(identity, sub.topic)) {
        log.info({ clientId: client.id, filter: sub.topic }, 'subscription refused')
        return cb(null, null) // SUBACK 0x80
      }
      cb(null, sub)
    },
    published(packet, client, cb) {
      if (client) opts.routing.leave()
      const sender = client ? identities.get(client) : undefined
      try {
        if (opts.hooks.size > 0 && !packet.topic.startsWith('$')) {
          const msg = {
            topic: packet.topic,
            payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
            qos: packet.qos,
            retain: packet.retain,
          }
          for (const hook of opts.hooks) hook(msg, sender)
        }
      } finally {
        // Acknowledge at once (this runs inside the publish pipeline and must not wait on a handler),
        // unless the sender has too much unfinished already: then Aedes reads nothing more from it until
        // that is done (flow control; see flow-control.ts).
        const held =
          (sender?.clientId === undefined ? undefined : opts.flow.admit(sender.clientId)) ??
          (client && unsent(client) > opts.limits.maxClientBufferBytes ? drained(client) : undefined)
        if (held) void held.then(() => cb())
        else cb()
      }
    },
  }
}
