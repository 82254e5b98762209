import { modules } from '../../src/capabilities/index.js'
import { loadConfig } from '../../src/config/load.js'
import type { Config } from '../../src/config/schema.js'

/**
 * The benches' sensebus: defaults everywhere except ephemeral ports and no log output, plus what a
 * scenario needs on top (`extra`, dotted keys as `--set` takes them).
 */
export function benchConfig(dataDir: string, extra: Record<string, unknown> = {}): Config {
  return loadConfig(modules, {
    overrides: {
      dataDir,
      'broker.mqtt.port': 0,
      'broker.ws.port': 0,
      'http.port': 0,
      'log.level': 'silent',
      ...extra,
    },
  })
}
