import { readFileSync } from 'node:fs'
import { parseDocument } from 'yaml'
import type { CapabilityModule } from '../core/capability.js'
import { compileOnce, toIssues } from '../core/validate.js'
import { envSettings } from './env.js'
import { configPath, fromPointer, isAtOrUnder } from './paths.js'
import { buildConfigSchema, type Config } from './schema.js'
import { describeYamlError } from './yaml-errors.js'

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
  /** Process environment; `SENSEBUS_HTTP__PORT=0` sets `http.port` (see `envSettings`). */
  env?: NodeJS.ProcessEnv
  /** Command-line overrides, as dotted paths: `{ 'http.port': 0 }`. */
  overrides?: Record<string, unknown>
  /** The flag behind each override, for messages: `{ 'http.port': '--http-port' }`. */
  flagNames?: Record<string, string>
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target
  for (const key of path.slice(0, -1)) {
    const next = node[key]
    if (!next || typeof next !== 'object' || Array.isArray(next)) node[key] = {}
    node = node[key] as Record<string, unknown>
  }
  node[path[path.length - 1] as string] = value
}

function readFile(file: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new ConfigError(`Cannot read config file ${file}`, [(err as Error).message])
  }
  const doc = parseDocument(text)
  if (doc.errors.length > 0)
    throw new ConfigError(
      `Config file ${file} is not valid YAML:`,
      doc.errors.map((e) => describeYamlError(text, e)),
    )
  const value: unknown = doc.toJS() ?? {}
  if (typeof value !== 'object' || Array.isArray(value))
    throw new ConfigError(`Config file ${file} is invalid:`, ['(root): must be a mapping of settings'])
  return value as Record<string, unknown>
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v)
  }
  return value
}

/**
 * `http.port: must be <= 65535 (from SENSEBUS_HTTP__PORT)`: a value that did not come from the file
 * says where it did.
 */
function withSource(path: string, sources: Array<{ path: string; label: string }>): string {
  // The last writer wins, so the last source at or above the path is the one that set it.
  const hit = [...sources].reverse().find((s) => isAtOrUnder(path, s.path))
  return hit ? ` (from ${hit.label})` : ''
}

/**
 * File → environment → flags, then defaults and validation with every problem listed as
 * `path: message` (paths as `security.users[1].roles`). The result is frozen and passed in to
 * whoever needs it, never imported.
 */
const schemas = new WeakMap<CapabilityModule[], ReturnType<typeof buildConfigSchema>>()

/** One schema object per module list, so its validator is compiled once per process (compileOnce). */
function configSchemaOf(modules: CapabilityModule[]): ReturnType<typeof buildConfigSchema> {
  let schema = schemas.get(modules)
  if (!schema) {
    schema = buildConfigSchema(modules)
    schemas.set(modules, schema)
  }
  return schema
}

export function loadConfig(modules: CapabilityModule[], sources: ConfigSources = {}): Config {
  const raw: Record<string, unknown> = sources.file ? readFile(sources.file) : {}
  const schema = configSchemaOf(modules)
  const origins: Array<{ path: string; label: string }> = []
  const topLevel = Object.entries(schema.properties)
    .filter(([, s]) => (s as { type?: unknown }).type !== 'object')
    .map(([k]) => k)
  for (const setting of envSettings(sources.env ?? {}, topLevel)) {
    setPath(raw, setting.path, setting.value)
    origins.push({ path: configPath(setting.path), label: setting.source })
  }
  for (const [path, value] of Object.entries(sources.overrides ?? {})) {
    if (value === undefined) continue
    setPath(raw, path.split('.'), value)
    origins.push({ path: configPath(path.split('.')), label: sources.flagNames?.[path] ?? 'a command-line flag' })
  }
  const validate = compileOnce(schema, { useDefaults: true })
  if (!validate(raw)) {
    const where = sources.file ? `Config file ${sources.file}` : 'Config'
    throw new ConfigError(
      `${where} has problems:`,
      toIssues(validate.errors).map((i) => {
        const path = fromPointer(i.path)
        return `${path}: ${i.message}${withSource(path, origins)}`
      }),
    )
  }
  return deepFreeze(raw as unknown as Config)
}

const SECRET_KEY = /(password|passphrase|secret|token|tokens|apikey|privatekey|hash|webhooks)$/i

/** Chat and webhook destinations carry their credentials in the URL (Slack, Teams, most webhooks) or headers. */
const DESTINATION_TYPES = new Set(['slack', 'teams', 'webhook'])
const DESTINATION_SECRETS = new Set(['url', 'headers'])

/** A copy safe to print or log: secret-looking values replaced. */
export function redactConfig(value: unknown, key = ''): unknown {
  if (SECRET_KEY.test(key) && value !== undefined && value !== null) return '[redacted]'
  if (Array.isArray(value)) return value.map((v) => redactConfig(v, key))
  if (value && typeof value === 'object') {
    const destination = DESTINATION_TYPES.has(String((value as { type?: unknown }).type))
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        destination && DESTINATION_SECRETS.has(k) && v !== undefined ? '[redacted]' : redactConfig(v, k),
      ]),
    )
  }
  return typeof value === 'string' ? redactUrlPassword(value) : value
}

/** `mqtt://user:secret@host` → `mqtt://user:[redacted]@host`, wherever a URL sits in the config. */
export function redactUrlPassword(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*):[^\s/@]*@/gi, '$1:[redacted]@')
}
