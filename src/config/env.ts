import { parse as parseYaml } from 'yaml'

export const ENV_PREFIX = 'SENSEBUS_'

/**
 * Variables the client verbs read (`request`, `publish`, `subscribe`). They share the prefix, so
 * config variables need a form of their own: `SENSEBUS_<SECTION>__<KEY>`, with a double underscore.
 */
export const CLIENT_ENV = ['SENSEBUS_URL', 'SENSEBUS_USERNAME', 'SENSEBUS_PASSWORD'] as const

export interface EnvSetting {
  /** Where it goes: `['http', 'bodyLimitBytes']`. */
  path: string[]
  value: unknown
  /** The variable's name, for messages. */
  source: string
}

/** `BODY_LIMIT_BYTES` → `bodyLimitBytes`. */
const camel = (part: string) => part.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())

/**
 * Config settings from the environment. `SENSEBUS_HTTP__BODY_LIMIT_BYTES=2048` sets
 * `http.bodyLimitBytes`; values are read as YAML (`8080` is a number, `[kv/*]` a list). The top-level
 * settings have no section, so they keep their one-part names (`SENSEBUS_DATA_DIR`, `SENSEBUS_BASE_TOPIC`);
 * any other one-part name (`SENSEBUS_URL`) is not config and is left to whoever reads it.
 */
export function envSettings(env: NodeJS.ProcessEnv, topLevelKeys: readonly string[]): EnvSetting[] {
  const out: EnvSetting[] = []
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue
    const rest = name.slice(ENV_PREFIX.length)
    const path = rest.split('__').map(camel)
    if (path.length === 1 && !topLevelKeys.includes(path[0] as string)) continue
    if (path.some((p) => p === '')) continue
    let value: unknown = raw
    try {
      value = parseYaml(raw)
    } catch {
      // not YAML: the string as it is
    }
    out.push({ path, value, source: name })
  }
  return out
}
