import { resolve } from 'node:path'
import { AedesBus } from './broker/aedes-bus.js'
import { bridgeInfo, bridgeStatePayload, publishBridge } from './broker/bridge.js'
import type { Bus } from './broker/bus.js'
import { startEmbeddedBroker, type EmbeddedBroker } from './broker/embedded-broker.js'
import { MqttBus } from './broker/mqtt-bus.js'
import type { BrokerPolicy } from './broker/policy.js'
import type { Config } from './config/schema.js'
import type { AppInfo, CapabilityModule } from './core/capability.js'
import { mountDispatcher, type Dispatcher } from './core/dispatch.js'
import { fail } from './core/envelope.js'
import { allCapabilities, butlerFlagsOf, enabledModules } from './core/registry.js'
import { createTopics } from './core/topics.js'
import { startHttpShim, type HttpShim } from './http/server.js'
import type { Logger } from './log.js'
import { auditEvent } from './security/audit.js'
import { createSecurity } from './security/index.js'
import { VERSION } from './version.js'

export interface AppOptions {
  config: Config
  log: Logger
  modules: CapabilityModule[]
  /** Replaces the users-and-roles policy built from `config.security` (tests). */
  policy?: BrokerPolicy
}

export interface Endpoints {
  mqtt?: { host: string; port: number }
  ws?: { host: string; port: number }
  mqtts?: { host: string; port: number }
  wss?: { host: string; port: number }
  http?: { host: string; port: number; tls?: boolean }
  brokerUrl?: string
}

export interface App {
  bus: Bus
  endpoints: Endpoints
  stop(): Promise<void>
}

/**
 * Builds and starts sensebus: the bus (embedded broker or external), every enabled module, the
 * dispatcher, the bridge topics and the HTTP shim. `stop()` undoes it in reverse order.
 */
export async function startApp({ config, log, modules, policy }: AppOptions): Promise<App> {
  const topics = createTopics(config.baseTopic)
  let bus: Bus
  // Before anything listens: a config that would expose sensebus unsafely stops here.
  const security = createSecurity({
    config,
    topics,
    log,
    publishAudit: (entry) =>
      bus.publish(`${topics.base}/event/audit`, auditEvent(`sensebus/${bus.id}`, entry), { qos: 0 }),
  })
  const dataDir = resolve(config.dataDir)
  const cleanups: Array<() => Promise<void>> = []
  const endpoints: Endpoints = {}
  const stopAll = async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      await fn().catch((err: unknown) => log.error({ err }, 'shutdown step failed'))
    }
  }

  try {
    const enabled = enabledModules(modules, config.capabilities.disabled)
    const capabilities = allCapabilities(enabled)
    if (config.broker.url) {
      bus = await MqttBus.connect(
        {
          url: config.broker.url,
          ...(config.broker.username !== undefined ? { username: config.broker.username } : {}),
          ...(config.broker.password !== undefined ? { password: config.broker.password } : {}),
          ...(config.broker.clientId !== undefined ? { clientId: config.broker.clientId } : {}),
          will: { topic: topics.bridgeState, payload: bridgeStatePayload('offline') },
          defaultTimeoutMs: config.bus.requestTimeoutMs,
          log: log.child({ area: 'bus' }),
        },
        topics,
      )
      endpoints.brokerUrl = config.broker.url
      cleanups.push(() => bus.close())
    } else {
      const broker: EmbeddedBroker = await startEmbeddedBroker({
        dataDir,
        mqtt: config.broker.mqtt.enabled ? config.broker.mqtt : null,
        ws: config.broker.ws.enabled ? config.broker.ws : null,
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
        },
        policy: policy ?? security.policy,
        log: log.child({ area: 'broker' }),
        // The connection is gone, but a request still deserves its one answer.
        onOversize: ({ topic }) => {
          const capability = topic === undefined ? undefined : topics.capabilityOf(topic)
          if (capability === undefined) return
          const env = fail(
            undefined,
            'PAYLOAD_TOO_LARGE',
            `The request exceeds ${config.broker.maxPayloadBytes} bytes (broker.maxPayloadBytes)`,
          )
          bus.publish(topics.response(capability), env, { qos: 1 }).catch(() => undefined)
        },
      })
      cleanups.push(() => broker.close())
      for (const l of broker.listeners) endpoints[l.kind] = { host: l.host, port: l.port }
      bus = new AedesBus(broker, topics, config.bus.requestTimeoutMs)
      security.policy.reserveReplyId(bus.id)
      cleanups.push(() => bus.close())
    }

    const mounted = []
    for (const mod of enabled) {
      const modConfig = (config.capabilities as Record<string, unknown>)[mod.area] ?? {}
      const mlog = log.child({ area: mod.area })
      const state = mod.setup ? await mod.setup({ config: modConfig, log: mlog, bus, topics, dataDir }) : undefined
      if (mod.teardown) cleanups.push(() => mod.teardown!(state))
      for (const capability of mod.capabilities) mounted.push({ capability, state, config: modConfig })
    }

    const app: AppInfo = {
      name: 'sensebus',
      version: VERSION,
      capabilities: () => capabilities.map((c) => c.name),
      butlerFlags: () => butlerFlagsOf(enabled),
    }
    const dispatcher: Dispatcher = await mountDispatcher({
      bus,
      topics,
      capabilities: mounted,
      app,
      log: log.child({ area: 'dispatch' }),
      maxInFlight: config.bus.maxInFlight,
      maxInFlightPerClient: config.bus.maxInFlightPerClient,
      defaultTimeoutMs: config.bus.requestTimeoutMs,
      ...(config.broker.sharedGroup ? { sharedGroup: config.broker.sharedGroup } : {}),
      authorize: security.mayCall,
      audit: (record) => security.auditor.dispatched(record),
    })
    // Shutdown order matters: the shim stops taking calls, in-flight requests answer, then offline.
    cleanups.push(async () => {
      await dispatcher.stop()
      await publishBridge(bus, topics, 'offline')
    })

    const info = bridgeInfo(bus, topics, VERSION, capabilities, new Date())
    await publishBridge(bus, topics, 'online', info)
    // Retained bridge state must be back after an external broker restarts without persistence.
    const offReconnect = bus.onReconnect(() => void publishBridge(bus, topics, 'online', info).catch(() => undefined))
    cleanups.push(async () => offReconnect())

    if (config.http.enabled) {
      const http: HttpShim = await startHttpShim({
        bus,
        capabilities,
        disabledCapabilities: allCapabilities(modules).filter((c) => !capabilities.includes(c)),
        host: config.http.host,
        port: config.http.port,
        bodyLimitBytes: config.http.bodyLimitBytes,
        requestTimeoutMs: config.http.requestTimeoutMs,
        corsOrigins: config.http.cors.origins,
        version: VERSION,
        log: log.child({ area: 'http' }),
        authorize: security.http.authorize,
        maxConnections: config.http.maxConnections,
        headersTimeoutMs: config.http.headersTimeoutMs,
        bodyTimeoutMs: config.http.bodyTimeoutMs,
        ...(security.tls.http ? { tls: security.tls.http } : {}),
      })
      endpoints.http = { host: config.http.host, port: http.port, ...(security.tls.http ? { tls: true } : {}) }
      cleanups.push(() => http.close())
    }
    log.info({ endpoints, capabilities: capabilities.length, version: VERSION }, 'sensebus ready')
    return { bus, endpoints, stop: stopAll }
  } catch (err) {
    await stopAll()
    throw err
  }
}
