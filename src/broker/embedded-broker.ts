import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Duplex } from 'node:stream'
import { Aedes, type Client } from 'aedes'
import levelPersistence from 'aedes-persistence-level'
import { Level } from 'level'
import type { Logger } from '../log.js'
import type { Sender } from './bus.js'
import { startTcpListener, startWsListener, type Listener } from './listeners.js'
import { isValidFilter, type BrokerPolicy } from './policy.js'

export interface EmbeddedBrokerOptions {
  dataDir: string
  mqtt: { host: string; port: number } | null
  ws: { host: string; port: number } | null
  policy: BrokerPolicy
  log: Logger
}

export type PublishedHook = (packet: { topic: string; payload: Buffer; qos: 0 | 1 | 2; retain: boolean }, sender: Sender | undefined) => void

export interface EmbeddedBroker {
  aedes: Aedes
  listeners: Listener[]
  /** Called for every routed message, with the identity of the client that sent it. */
  onPublished(hook: PublishedHook): () => void
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
  await mkdir(opts.dataDir, { recursive: true })
  const db = new Level<string, Buffer>(join(opts.dataDir, 'mqtt'), { valueEncoding: 'buffer' })
  try {
    await db.open()
  } catch (err) {
    throw new Error(`Cannot open the broker store in ${join(opts.dataDir, 'mqtt')}: ${(err as Error).message}`, { cause: err })
  }
  const senders = new WeakMap<Client, Sender>()
  const zeroLengthId = new WeakSet<Client>()
  const transports = new WeakMap<Duplex, Sender['transport']>()
  const hooks = new Set<PublishedHook>()

  const aedes = new Aedes({
    persistence: levelPersistence(db),
    drainTimeout: 30_000,
    preConnect(client, packet, cb) {
      if (packet.clientId === '') zeroLengthId.add(client)
      cb(null, true)
    },
    authenticate(client, username, password, cb) {
      // [MQTT-3.1.3-8]: a zero-length client id needs CleanSession=1, else CONNACK 0x02.
      if (zeroLengthId.has(client) && !client.clean) return cb(errorWithCode('identifier rejected', 2) as never, false)
      const transport = transports.get(client.conn as unknown as Duplex) ?? 'mqtt'
      policy
        .authenticate({ clientId: client.id, username: username ?? undefined, password: password ?? undefined, transport })
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
      if (!isValidFilter(sub.topic) || (sender && !policy.canSubscribe(sender, sub.topic))) {
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

  const handle = (stream: Duplex, transport: Sender['transport']) => {
    transports.set(stream, transport)
    aedes.handle(stream)
  }
  const listeners: Listener[] = []
  try {
    if (opts.mqtt) listeners.push(await startTcpListener(opts.mqtt.host, opts.mqtt.port, (s) => handle(s, 'mqtt')))
    if (opts.ws) listeners.push(await startWsListener(opts.ws.host, opts.ws.port, (s) => handle(s, 'ws')))
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close()))
    await new Promise<void>((resolve) => aedes.close(() => resolve()))
    await db.close()
    throw err
  }

  return {
    aedes,
    listeners,
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
