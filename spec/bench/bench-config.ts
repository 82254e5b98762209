import { modules } from '../../src/capabilities/index.js'
import { loadConfig } from '../../src/config/load.js'
import type { Config } from '../../src/config/schema.js'
import { applyHeapMode } from '../../src/startup/heap.js'

/**
 * The benches' sensebus: defaults everywhere except ephemeral ports and no log output, plus what a
 * scenario needs on top (`extra`, dotted keys as `--set` takes them). Like `sensebus start`, it applies the
 * config's V8 heap mode to the process (src/startup/heap.ts), so the bench measures what users run; in a
 * process that also holds baselines, they run under the same mode.
 */
export function benchConfig(dataDir: string, extra: Record<string, unknown> = {}): Config {
  const config = loadConfig(modules, {
    overrides: {
      dataDir,
      'broker.mqtt.port': 0,
      'broker.ws.port': 0,
      'http.port': 0,
      'log.level': 'silent',
      ...extra,
    },
  })
  applyHeapMode(config.runtime.heap)
  return config
}
