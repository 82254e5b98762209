import { resolve } from 'node:path'
import type { Config } from '../config/schema.js'
import type { Bus } from '../core/bus.js'
import type { Health } from '../core/health.js'
import { restrictServices, type ServiceName, type Services } from '../core/services.js'
import type { Topics } from '../core/topics.js'
import type { Logger } from '../log.js'
import type { ServiceDefinition } from '../services/define.js'

/** The services the modules need, with everything those need in turn, in an order that builds each after its needs. */
export function serviceOrder(
  definitions: readonly ServiceDefinition[],
  wanted: Iterable<ServiceName>,
): ServiceDefinition[] {
  const byName = new Map(definitions.map((d) => [d.name as string, d]))
  const order: ServiceDefinition[] = []
  const state = new Map<string, 'visiting' | 'done'>()
  const visit = (name: string, path: string[]) => {
    const def = byName.get(name)
    if (!def)
      throw new Error(
        `${path.join(' → ')} needs the service '${name}', which does not exist (known: ` +
          `${[...byName.keys()].join(', ')})`,
      )
    if (state.get(name) === 'done') return
    if (state.get(name) === 'visiting')
      throw new Error(`Services need each other in a circle: ${[...path, name].join(' → ')}`)
    state.set(name, 'visiting')
    for (const n of def.needs ?? []) visit(n, [...path, name])
    state.set(name, 'done')
    order.push(def)
  }
  for (const name of wanted) visit(name, ['module'])
  return order
}

/** Builds the services in order; each is stopped (in reverse) by the cleanups it registers. */
export async function buildServices(opts: {
  definitions: readonly ServiceDefinition[]
  wanted: Iterable<ServiceName>
  config: Config
  log: Logger
  bus: Bus
  topics: Topics
  health: Health
  baseDir: string
  cleanups: Array<() => Promise<void>>
}): Promise<Partial<Services>> {
  const built: Partial<Services> = {}
  for (const def of serviceOrder(opts.definitions, opts.wanted)) {
    const service = await def.create({
      config: (opts.config as unknown as Record<string, unknown>)[def.name] ?? {},
      log: opts.log.child({ service: def.name }),
      bus: opts.bus,
      topics: opts.topics,
      dataDir: resolve(opts.config.dataDir),
      baseDir: opts.baseDir,
      health: opts.health,
      services: restrictServices(built, def.needs ?? [], `service ${def.name}`),
    })
    ;(built as Record<string, unknown>)[def.name] = service
    if (def.stop) {
      const stop = def.stop
      opts.cleanups.push(() => stop(service as never))
    }
  }
  return built
}
