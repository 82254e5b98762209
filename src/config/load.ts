import { readFileSync } from 'node:fs'
import { parse as parseYaml, YAMLParseError } from 'yaml'
import type { CapabilityModule } from '../core/capability.js'
import { createAjv, toIssues } from '../core/validate.js'
import { buildConfigSchema, type Config } from './schema.js'

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly problems: string[],
  ) {
    super(`${message}\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

export interface ConfigSources {
  /** YAML file path; none means embedded defaults. */
  file?: string
  /** Process environment; `SENSEBUS_HTTP__PORT=0` sets `http.port`. */
  env?: NodeJS.ProcessEnv
  /** Command-line overrides, as dotted paths: `{ 'http.port': 0 }`. */
  overrides?: Record<string, unknown>
}

const ENV_PREFIX = 'SENSEBUS_'

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target
  for (const key of path.slice(0, -1)) {
    const next = node[key]
    if (!next || typeof next !== 'object' || Array.isArray(next)) node[key] = {}
    node = node[key] as Record<string, unknown>
  }
  node[path[path.length - 1] as string] = value
}

/** `HTTP__BODY_LIMIT_BYTES` → `['http', 'bodyLimitBytes']`. */
function envPath(name: string): string[] {
  return name
    .slice(ENV_PREFIX.length)
    .split('__')
    .map((part) => part.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()))
}

function readFile(file: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new ConfigError(`Cannot read config file ${file}`, [(err as Error).message])
  }
  let doc: unknown
  try {
    doc = parseYaml(text) ?? {}
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` (line ${err.linePos[0].line})` : ''
    throw new ConfigError(`Config file ${file} is not valid YAML${where}`, [
      (err as Error).message.split('\n')[0] ?? '',
    ])
  }
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new ConfigError(`Config file ${file} is invalid`, ['/: must be a mapping of settings'])
  return doc as Record<string, unknown>
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v)
  }
  return value
}

/**
 * File → environment → flags, then defaults and validation with every problem listed as
 * `path: message`. The result is frozen and passed in to whoever needs it, never imported.
 */
export function loadConfig(modules: CapabilityModule[], sources: ConfigSources = {}): Config {
  const raw: Record<string, unknown> = sources.file ? readFile(sources.file) : {}
  for (const [name, value] of Object.entries(sources.env ?? {})) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined) continue
    let parsed: unknown = value
    try {
      parsed = parseYaml(value)
    } catch {
      // not YAML: keep the string as it is
    }
    setPath(raw, envPath(name), parsed)
  }
  for (const [path, value] of Object.entries(sources.overrides ?? {})) {
    if (value !== undefined) setPath(raw, path.split('.'), value)
  }
  const validate = createAjv({ useDefaults: true }).compile(buildConfigSchema(modules))
  if (!validate(raw)) {
    const where = sources.file ? `Config file ${sources.file}` : 'Config'
    throw new ConfigError(
      `${where} has problems:`,
      toIssues(validate.errors).map((i) => `${i.path}: ${i.message}`),
    )
  }
  return deepFreeze(raw as unknown as Config)
}

const SECRET_KEY = /(password|passphrase|secret|token|tokens|apikey|privatekey|hash|webhooks)$/i

/** A copy safe to print or log: secret-looking values replaced. */
export function redactConfig(value: unknown, key = ''): unknown {
  if (SECRET_KEY.test(key) && value !== undefined && value !== null) return '[redacted]'
  if (Array.isArray(value)) return value.map((v) => redactConfig(v, key))
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactConfig(v, k)]))
  }
  return value
}
