import { AedesBus } from '../broker/aedes-bus.js'
import { bridgeStatePayload } from '../broker/bridge.js'
import { type EmbeddedBroker, startEmbeddedBroker } from '../broker/embedded-broker.js'
import { MqttBus, newBusId } from '../broker/mqtt-bus.js'
import type { BrokerPolicy } from '../broker/policy.js'
import type { Config } from '../config/schema.js'
import type { Bus } from '../core/bus.js'
import { fail } from '../core/envelope.js'
import type { Topics } from '../core/topics.js'
import type { Logger } from '../log.js'
import type { Metrics } from '../ops/metrics.js'
import type { Security } from '../security/index.js'

export interface Endpoints {
  mqtt?: { host: string; port: number }
  ws?: { host: string; port: number }
  mqtts?: { host: string; port: number }
  wss?: { host: string; port: number }
  http?: { host: string; port: number; tls?: boolean }
  brokerUrl?: string
}

export interface OpenedBus {
  bus: Bus
  /**
   * Opens the embedded broker's MQTT ports (and fills `endpoints`): the app calls it once requests are
   * answered, so nothing reaches the broker that would be acknowledged and dropped. No-op on an
   * external broker.
   */
  listen(): Promise<void>
  /** Lets pages from these origins open MQTT over WebSocket too (the web view's own origin). */
  allowWsOrigins(origins: readonly string[]): void
}

/**
 * The bus: an external broker through one mqtt.js client (`broker.url`), or the embedded Aedes broker,
 * whose ports open later (`listen`). Registers what to close, in order, on shutdown.
 */
export async function openBus(opts: {
  config: Config
  topics: Topics
  security: Security
  policy?: BrokerPolicy
  log: Logger
  endpoints: Endpoints
  cleanups: Array<() => Promise<void>>
  metrics?: Metrics
}): Promise<OpenedBus> {
  const { config, topics, security, log, endpoints, cleanups } = opts
  if (config.broker.url) {
    const id = newBusId()
    // Several instances share the site's state topic: one that dies must not report the site offline.
    const willTopic = config.broker.sharedGroup ? topics.bridgeInstance(id) : topics.bridgeState
    const bus = await MqttBus.connect(
      {
        url: config.broker.url,
        id,
        ...(config.broker.username !== undefined ? { username: config.broker.username } : {}),
        ...(config.broker.password !== undefined ? { password: config.broker.password } : {}),
        ...(config.broker.clientId !== undefined ? { clientId: config.broker.clientId } : {}),
        will: { topic: willTopic, payload: bridgeStatePayload('offline') },
        defaultTimeoutMs: config.bus.requestTimeoutMs,
        log: log.child({ area: 'bus' }),
      },
      topics,
    )
    endpoints.brokerUrl = config.broker.url
    cleanups.push(() => bus.close())
    return { bus, listen: async () => undefined, allowWsOrigins: () => undefined }
  }
  let bus: Bus | undefined
  // A copy the listeners read at each upgrade: the web view adds its origin once the HTTP port is known.
  const wsOrigins = [...config.broker.ws.origins]
  const broker: EmbeddedBroker = await startEmbeddedBroker({
    dataDir: config.dataDir,
    mqtt: config.broker.mqtt.enabled ? config.broker.mqtt : null,
    ws: config.broker.ws.enabled ? config.broker.ws : null,
    wsOrigins,
    mqtts: security.tls.mqtts
      ? { host: config.broker.mqtts.host, port: config.broker.mqtts.port, tls: security.tls.mqtts }
      : null,
    wss: security.tls.wss
      ? { host: config.broker.wss.host, port: config.broker.wss.port, tls: security.tls.wss }
      : null,
    limits: {
      maxPayloadBytes: config.broker.maxPayloadBytes,
      maxConnections: config.broker.maxConnections,
      connectTimeoutMs: config.broker.connectTimeoutMs,
      maxClientBufferBytes: config.broker.maxClientBufferBytes,
      retained: config.broker.retained,
    },
    policy: opts.policy ?? security.policy,
    adminTakesOverClientIds: config.broker.adminTakesOverClientIds,
    log: log.child({ area: 'broker' }),
    onDeniedPublish: () => opts.metrics?.publishDenied(),
    // The connection is gone, but a request still deserves its one answer.
    onOversize: ({ topic }) => {
      const capability = topic === undefined ? undefined : topics.capabilityOf(topic)
      if (capability === undefined || !bus) return
      const env = fail(
        undefined,
        'PAYLOAD_TOO_LARGE',
        `The request exceeds ${config.broker.maxPayloadBytes} bytes (broker.maxPayloadBytes)`,
      )
      bus.publish(topics.response(capability), env, { qos: 1 }).catch((err: unknown) => {
        log.warn({ err, capability }, 'could not answer an oversized request')
      })
    },
  })
  cleanups.push(() => broker.close())
  opts.metrics?.gauge(
    'sensebus_mqtt_connections',
    'Connected MQTT clients over all listeners of the embedded broker',
    () => broker.aedes.connectedClients,
  )
  bus = new AedesBus(broker, topics, config.bus.requestTimeoutMs)
  security.policy.reserveReplyId(bus.id)
  const opened = bus
  cleanups.push(() => opened.close())
  return {
    bus,
    async listen() {
      for (const l of await broker.listen()) endpoints[l.kind] = { host: l.host, port: l.port }
    },
    allowWsOrigins(origins) {
      for (const o of origins) if (!wsOrigins.includes(o)) wsOrigins.push(o)
    },
  }
}
