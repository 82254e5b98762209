import { bridgeInfo, publishBridge } from './broker/bridge.js'
import type { BrokerPolicy } from './broker/policy.js'
import type { Config } from './config/schema.js'
import type { Bus } from './core/bus.js'
import type { AppInfo, CapabilityModule } from './core/capability.js'
import { mountDispatcher } from './core/dispatch.js'
import { Health } from './core/health.js'
import { Jobs } from './core/jobs.js'
import { allCapabilities, butlerFlagsOf, enabledModules, registryGrants } from './core/registry.js'
import type { ServiceName } from './core/services.js'
import { createTopics } from './core/topics.js'
import { startHttpShim } from './http/server.js'
import { type ApiDocuments, apiDescription } from './ops/api-description.js'
import { opsEndpoints } from './ops/endpoints.js'
import { healthReporter } from './ops/health-report.js'
import { Metrics } from './ops/metrics.js'
import { watchBus } from './ops/watch.js'
import type { Logger } from './log.js'
import { auditEvent } from './security/audit.js'
import { createSecurity } from './security/index.js'
import { services as serviceRegistry } from './services/index.js'
import { type Endpoints, openBus } from './startup/bus.js'
import { setupModules } from './startup/modules.js'
import { buildServices } from './startup/services.js'
import { VERSION } from './version.js'
import { webViewDocuments, webViewOrigins } from './web/mount.js'

export type { Endpoints } from './startup/bus.js'

export interface AppOptions {
  config: Config
  log: Logger
  modules: CapabilityModule[]
  /** Where relative paths in the config resolve (the config file's folder); default the cwd. */
  baseDir?: string
  /** Replaces the users-and-roles policy built from `config.security` (tests). */
  policy?: BrokerPolicy
}

export interface App {
  bus: Bus
  endpoints: Endpoints
  health: Health
  metrics: Metrics
  stop(): Promise<void>
}

/**
 * Builds and starts sensebus: security, the bus, the services the modules need, the modules, the
 * dispatcher, the bridge topics and the HTTP shim. `stop()` undoes it in reverse order. Nothing here
 * grows with a new capability: a capability is a module in the registry.
 */
export async function startApp({ config, log, modules, policy, baseDir = process.cwd() }: AppOptions): Promise<App> {
  const topics = createTopics(config.baseTopic)
  const enabled = enabledModules(modules, config.capabilities.disabled)
  const capabilities = allCapabilities(enabled)
  let bus: Bus | undefined
  // Before anything listens: a config that would expose sensebus unsafely stops here.
  const security = createSecurity({
    config,
    topics,
    registry: registryGrants(capabilities),
    log,
    publishAudit: async (entry) => bus?.publish(topics.audit, auditEvent(`sensebus/${bus.id}`, entry), { qos: 0 }),
    onRefused: () => metrics.httpRefused(),
  })
  const health = new Health()
  const metrics = new Metrics({ capabilities: capabilities.map((c) => c.name) })
  const cleanups: Array<() => Promise<void>> = []
  const endpoints: Endpoints = {}
  let stopping = false
  const stopAll = async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      await fn().catch((err: unknown) => log.error({ err }, 'shutdown step failed'))
    }
  }

  try {
    const opened = await openBus({
      config,
      topics,
      security,
      log,
      endpoints,
      cleanups,
      metrics,
      ...(policy ? { policy } : {}),
    })
    bus = opened.bus
    // Sense is always watched: its reachability is part of the bridge state whoever uses it.
    const wanted = new Set<ServiceName>(['sense', ...enabled.flatMap((m) => m.needs ?? [])])
    const services = await buildServices({
      definitions: serviceRegistry,
      wanted,
      config,
      log,
      bus,
      topics,
      health,
      baseDir,
      cleanups,
    })
    const starters: Array<() => Promise<(() => Promise<void>) | undefined>> = []
    const mounted = await setupModules({
      modules: enabled,
      config,
      services,
      bus,
      topics,
      log,
      metrics,
      cleanups,
      starters,
      baseDir,
    })

    const app: AppInfo = {
      name: 'sensebus',
      version: VERSION,
      capabilities: () => capabilities.map((c) => c.name),
      butlerFlags: () => butlerFlagsOf(enabled),
    }
    const jobs = new Jobs({ bus, topics, log: log.child({ area: 'jobs' }), ...config.jobs })
    await jobs.recover()
    const dispatcher = await mountDispatcher({
      bus,
      topics,
      capabilities: mounted,
      app,
      jobs,
      log: log.child({ area: 'dispatch' }),
      maxInFlight: config.bus.maxInFlight,
      maxInFlightPerClient: config.bus.maxInFlightPerClient,
      defaultTimeoutMs: config.bus.requestTimeoutMs,
      ...(config.broker.sharedGroup ? { sharedGroup: config.broker.sharedGroup } : {}),
      authorize: security.mayCall,
      refresh: security.refresh,
      mayReplyTo: security.policy.mayReplyTo,
      accessOf: security.accessOf,
      ...(config.broker.url
        ? { unknownSender: { via: 'mqtt', transport: 'mqtt', roles: config.broker.trustedRoles } }
        : {}),
      audit: (record) => {
        metrics.requestAnswered(record)
        security.auditor.dispatched(record)
      },
    })
    watchBus({ metrics, bus, topics, services, inFlight: () => dispatcher.inFlight(), cleanups })
    const liveBus = bus
    const info = bridgeInfo(liveBus, topics, VERSION, capabilities, new Date())
    const sharedBroker = Boolean(config.broker.url && config.broker.sharedGroup)
    const publishState = () =>
      publishBridge(liveBus, topics, health.overall(), info, sharedBroker).catch((err: unknown) => {
        log.warn({ err }, 'could not publish the bridge state')
      })
    // Shutdown order matters: the shim stops taking calls, in-flight requests answer, then offline.
    cleanups.push(async () => {
      stopping = true
      offHealth()
      offReconnect()
      const stopStarted = Date.now()
      await liveBus.quiesce?.()
      const quiesced = Date.now()
      await dispatcher.stop()
      log.info(
        { quiesceMs: quiesced - stopStarted, drainMs: Date.now() - quiesced },
        'requests stopped and answered (drain ends at the grace period at worst)',
      )
      // An unreachable external broker would hold this publish forever; it sends our last will instead.
      if (liveBus.connected) await publishBridge(liveBus, topics, 'offline', undefined, sharedBroker)
    })
    await publishState()
    const offHealth = health.onChange(() => void publishState())
    // Retained bridge state must be back after an external broker restarts without persistence.
    const offReconnect = liveBus.onReconnect(() => void publishState())
    // After the dispatcher's cleanup, so a module's stop runs before requests stop being answered.
    for (const start of starters) {
      const stop = await start()
      if (stop) cleanups.push(stop)
    }

    // Only now, with every request answered: earlier, the broker would acknowledge requests nobody answers.
    await opened.listen()
    if (config.http.enabled) {
      const report = healthReporter({
        bus: liveBus,
        health,
        store: services.store,
        version: VERSION,
        senseRequired: config.http.health.senseRequired,
        stopping: () => stopping,
      })
      let described: ApiDocuments | undefined
      const documents = opsEndpoints({
        ...config.http,
        requireToken: security.http.requireToken,
        report,
        registry: metrics,
        describe: () =>
          (described ??= apiDescription(enabled, capabilities, config.baseTopic, endpoints, {
            health: config.http.health.enabled,
            metrics: config.http.metrics.enabled,
          })),
      })
      if (config.web.enabled) Object.assign(documents, webViewDocuments({ config, modules: enabled, endpoints }))
      const http = await startHttpShim({
        bus: liveBus,
        capabilities,
        disabledCapabilities: allCapabilities(modules).filter((c) => !capabilities.includes(c)),
        host: config.http.host,
        port: config.http.port,
        bodyLimitBytes: config.http.bodyLimitBytes,
        requestTimeoutMs: config.bus.requestTimeoutMs,
        corsOrigins: config.http.cors.origins,
        log: log.child({ area: 'http' }),
        authorize: security.http.authorize,
        documents,
        maxConnections: config.http.maxConnections,
        headersTimeoutMs: config.http.headersTimeoutMs,
        bodyTimeoutMs: config.http.bodyTimeoutMs,
        ...(security.tls.http ? { tls: security.tls.http } : {}),
      })
      metrics.gauge('sensebus_http_connections', 'Open HTTP connections', () => http.connections())
      endpoints.http = { host: config.http.host, port: http.port, ...(security.tls.http ? { tls: true } : {}) }
      if (config.web.enabled) opened.allowWsOrigins(webViewOrigins(config.http.host, http.port, !!security.tls.http))
      cleanups.push(() => http.close())
    }
    log.info({ endpoints, capabilities: capabilities.length, version: VERSION }, 'sensebus ready')
    return { bus: liveBus, endpoints, health, metrics, stop: stopAll }
  } catch (err) {
    await stopAll()
    throw err
  }
}
