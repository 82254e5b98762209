import type { TSchema } from '@sinclair/typebox'
import type { Bus } from '../core/bus.js'
import type { Health } from '../core/health.js'
import type { ServiceName, Services } from '../core/services.js'
import type { Topics } from '../core/topics.js'
import type { Logger } from '../log.js'

export interface ServiceContext<C = unknown> {
  /** The service's own config section (root key = the service name). */
  config: C
  log: Logger
  bus: Bus
  topics: Topics
  /** Absolute data directory. */
  dataDir: string
  /** Where relative paths in the config file resolve (its folder; the cwd without a file). */
  baseDir: string
  health: Health
  /** The other services this one declared in `needs`. */
  services: Services
}

/**
 * A long-lived dependency built once at start-up, in dependency order, and stopped in reverse. Its
 * config section sits at the root of the config file under its name (`mail:`, `outbox:`).
 */
export interface ServiceDefinition<N extends ServiceName = ServiceName, C = any> {
  name: N
  configSchema?: TSchema
  needs?: readonly ServiceName[]
  create(ctx: ServiceContext<C>): Promise<Services[N]>
  stop?(service: Services[N]): Promise<void>
}

export function defineService<N extends ServiceName, C>(def: ServiceDefinition<N, C>): ServiceDefinition<N, C> {
  return def
}
