import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startApp, type App } from '../../src/app.js'
import { modules as registry } from '../../src/capabilities/index.js'
import { loadConfig } from '../../src/config/load.js'
import type { Config } from '../../src/config/schema.js'
import type { BrokerPolicy } from '../../src/broker/policy.js'
import type { CapabilityModule } from '../../src/core/capability.js'
import { silentLogger } from '../../src/log.js'

export interface TestApp {
  app: App
  config: Config
  mqttUrl: string
  wsUrl?: string
  httpUrl: string
  dataDir: string
  /** Stops the app; the data dir stays unless `clean` is set. */
  stop(opts?: { clean?: boolean }): Promise<void>
}

export interface TestAppOptions {
  overrides?: Record<string, unknown>
  modules?: CapabilityModule[]
  dataDir?: string
  /** External-broker mode: sensebus connects here instead of embedding a broker. */
  brokerUrl?: string
  policy?: BrokerPolicy
  /** Where relative config paths resolve (the config file's folder in `sensebus start`). */
  baseDir?: string
}

/** A real sensebus on ephemeral ports with its own data dir. */
export async function startTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'sensebus-test-')))
  const modules = opts.modules ?? registry
  const config = loadConfig(modules, {
    overrides: {
      dataDir,
      'broker.mqtt.port': 0,
      'broker.ws.port': 0,
      'http.port': 0,
      // The task-event receiver's default (9998) would collide between parallel spec files.
      ...(modules.some((m) => m.area === 'alert') ? { 'capabilities.alert.udp.port': 0 } : {}),
      'log.level': 'silent',
      ...(opts.brokerUrl ? { 'broker.url': opts.brokerUrl } : {}),
      ...opts.overrides,
    },
  })
  const app = await startApp({
    config,
    log: silentLogger(),
    modules,
    ...(opts.policy ? { policy: opts.policy } : {}),
    ...(opts.baseDir ? { baseDir: opts.baseDir } : {}),
  })
  const { mqtt, ws, http } = app.endpoints
  return {
    app,
    config,
    mqttUrl: opts.brokerUrl ?? `mqtt://127.0.0.1:${mqtt?.port}`,
    ...(ws ? { wsUrl: `ws://127.0.0.1:${ws.port}` } : {}),
    httpUrl: `http://127.0.0.1:${http?.port}`,
    dataDir,
    async stop({ clean = false } = {}) {
      await app.stop()
      if (clean) await rm(dataDir, { recursive: true, force: true })
    },
  }
}
