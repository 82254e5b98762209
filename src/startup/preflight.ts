import type { Config } from '../config/schema.js'
import type { CapabilityModule } from '../core/capability.js'
import { allCapabilities, enabledModules, registryGrants } from '../core/registry.js'
import { createTopics } from '../core/topics.js'
import { silentLogger } from '../log.js'
import { createSecurity } from '../security/index.js'

/**
 * What `start` checks before anything listens, without starting anything: users, password and token
 * hashes, roles, exposure, TLS files. `sensebus config check` runs it, so a file that passes the
 * check gets past these steps of `start`, and one that fails it fails there with the same message.
 */
export function preflight(config: Config, modules: CapabilityModule[]): void {
  const topics = createTopics(config.baseTopic)
  const capabilities = allCapabilities(enabledModules(modules, config.capabilities.disabled))
  createSecurity({
    config,
    topics,
    registry: registryGrants(capabilities),
    log: silentLogger(),
    publishAudit: async () => undefined,
  })
}
