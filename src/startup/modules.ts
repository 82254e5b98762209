import { resolve } from 'node:path'
import type { Config } from '../config/schema.js'
import type { Bus } from '../core/bus.js'
import type { CapabilityModule } from '../core/capability.js'
import type { MountedCapability } from '../core/dispatch.js'
import { restrictServices, type Services } from '../core/services.js'
import type { Topics } from '../core/topics.js'
import type { Logger } from '../log.js'
import type { Metrics } from '../ops/metrics.js'

/** Runs each module's setup with its config slice and the services it declared. */
export async function setupModules(opts: {
  modules: CapabilityModule[]
  config: Config
  services: Partial<Services>
  bus: Bus
  topics: Topics
  log: Logger
  metrics: Metrics
  cleanups: Array<() => Promise<void>>
  /** The config file's folder: relative paths in module config resolve against it. */
  baseDir?: string
  /** Filled with each module's `start`, for the app to run once the dispatcher listens. */
  starters?: Array<() => Promise<(() => Promise<void>) | undefined>>
}): Promise<MountedCapability[]> {
  const mounted: MountedCapability[] = []
  for (const mod of opts.modules) {
    const config = opts.config.capabilities[mod.area] ?? {}
    const services = restrictServices(opts.services, mod.needs ?? [], mod.area)
    const log = opts.log.child({ area: mod.area })
    const ctx = {
      config,
      log,
      bus: opts.bus,
      topics: opts.topics,
      dataDir: resolve(opts.config.dataDir),
      baseDir: resolve(opts.baseDir ?? '.'),
      services,
      metrics: opts.metrics,
    }
    const state = mod.setup ? await mod.setup(ctx) : undefined
    if (mod.teardown) {
      const teardown = mod.teardown
      opts.cleanups.push(() => teardown(state))
    }
    if (mod.start) {
      const start = mod.start
      opts.starters?.push(() => start(state))
    }
    for (const capability of mod.capabilities) mounted.push({ capability, state, config, services })
  }
  return mounted
}
