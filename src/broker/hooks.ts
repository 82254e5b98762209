import type { Duplex } from 'node:stream'
import type { AedesOptions, Client } from 'aedes'
import { CLI_CLIENT_PREFIX, type Identity } from '../core/identity.js'
import type { Logger } from '../log.js'
import type { BrokerPolicy } from './policy.js'

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
  maxConnections: number
}): Pick<AedesOptions, 'preConnect' | 'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'published'> {
  const { policy, log, identities } = opts
  const zeroLengthId = new WeakSet<Client>()
  return {
    preConnect(client, packet, cb) {
      if (packet.clientId === '') zeroLengthId.add(client)
      cb(null, true)
    },
    authenticate(client, username, password, cb) {
      // [MQTT-3.1.3-8]: a zero-length client id needs CleanSession=1, else CONNACK 0x02.
      if (zeroLengthId.has(client) && !client.clean) return cb(errorWithCode('identifier rejected', 2) as never, false)
      const stream = opts.streams.get(client.conn as unknown as Duplex)
      const transport = stream?.transport ?? 'mqtt'
      if (stream?.overLimit) {
        log.warn({ clientId: client.id, limit: opts.maxConnections }, 'connection refused: too many connections')
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
        .then(({ user, roles }) => {
          const via = client.id.startsWith(CLI_CLIENT_PREFIX) ? 'cli' : 'mqtt'
          identities.set(client, { via, transport, user, roles, clientId: client.id })
          cb(null, true)
        })
        .catch((err: Error & { returnCode?: number }) => {
          log.info({ clientId: client.id, username, reason: err.message }, 'connection refused')
          cb(errorWithCode(err.message, err.returnCode ?? 5) as never, false)
        })
    },
    authorizePublish(client, packet, cb) {
      if (packet.topic.startsWith('$SYS/')) return cb(new Error('$SYS/ topics are reserved'))
      const identity = client ? identities.get(client) : undefined
      if (identity && !policy.canPublish(identity, packet.topic)) {
        log.warn({ clientId: identity.clientId, topic: packet.topic }, 'publish denied; closing the connection')
        return cb(new Error('publish not authorized'))
      }
      cb(null)
    },
    authorizeSubscribe(client, sub, cb) {
      const identity = identities.get(client)
      // Aedes has already closed the connection on a malformed filter ([MQTT-4.8.0-1]) by now.
      if (identity && !policy.canSubscribe(identity, sub.topic)) {
        log.info({ clientId: client.id, filter: sub.topic }, 'subscription refused')
        return cb(null, null) // SUBACK 0x80
      }
      cb(null, sub)
    },
    published(packet, client, cb) {
      // Acknowledge first: this runs inside the publish pipeline and must never wait on a handler.
      cb()
      if (opts.hooks.size === 0 || packet.topic.startsWith('$SYS/')) return
      const msg = {
        topic: packet.topic,
        payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
        qos: packet.qos,
        retain: packet.retain,
      }
      const sender = client ? identities.get(client) : undefined
      for (const hook of opts.hooks) hook(msg, sender)
    },
  }
}
