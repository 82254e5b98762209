/**
 * The `sense:` slice of the sensebus config: where the Qlik Sense site is and how to authenticate.
 * The bus owner composes `senseConfigSchema` into the root schema; the simulator writes the same shape
 * into the config file it generates, so both sides stay in step through this one file.
 */

/** Defaults follow what Qlik documents and Butler ships (QLIK-PROTOCOLS §1.1-1.2, §2.1). */
export const SENSE_DEFAULTS = {
  qrs: { port: 4242, timeoutMs: 30_000, retries: 2 },
  engine: { port: 4747, timeoutMs: 30_000, schemaVersion: '12.612.0' },
  certs: { dir: './certs' },
  user: { directory: 'INTERNAL', id: 'sa_repository' },
  rejectUnauthorized: true,
  virtualProxy: { port: 443 },
} as const

/**
 * JSON Schema (ajv 8) for `sense:`. `host` has no default on purpose: without it the Sense features
 * are disabled. With ajv `useDefaults: true` every nested object is filled in, `sense:` itself too
 * when absent. Meant to be composed under a key (`sense: senseConfigSchema`): compiled on its own as a
 * root schema, ajv's strict mode objects to the root `default`.
 */
export const senseConfigSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    host: { type: 'string', minLength: 1, description: 'Sense server host name; absent => Sense features disabled' },
    qrs: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        port: { type: 'integer', minimum: 1, maximum: 65535, default: SENSE_DEFAULTS.qrs.port },
        timeoutMs: { type: 'integer', minimum: 1, default: SENSE_DEFAULTS.qrs.timeoutMs },
        retries: {
          type: 'integer',
          minimum: 0,
          maximum: 10,
          default: SENSE_DEFAULTS.qrs.retries,
          description: 'Retries for idempotent reads (GET) only; starts are never retried',
        },
      },
    },
    engine: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        port: { type: 'integer', minimum: 1, maximum: 65535, default: SENSE_DEFAULTS.engine.port },
        timeoutMs: { type: 'integer', minimum: 1, default: SENSE_DEFAULTS.engine.timeoutMs },
        schemaVersion: { type: 'string', minLength: 1, default: SENSE_DEFAULTS.engine.schemaVersion },
      },
    },
    certs: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description:
        'QMC certificate export: a directory with client.pem, client_key.pem and root.pem, or explicit files (these win over dir)',
      properties: {
        dir: { type: 'string', minLength: 1, default: SENSE_DEFAULTS.certs.dir },
        clientCert: { type: 'string', minLength: 1 },
        clientKey: { type: 'string', minLength: 1 },
        rootCa: { type: 'string', minLength: 1 },
        passphrase: { type: 'string' },
      },
    },
    user: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'The user QRS calls run as (X-Qlik-User), QLIK-PROTOCOLS §1.2',
      properties: {
        directory: { type: 'string', minLength: 1, default: SENSE_DEFAULTS.user.directory },
        id: { type: 'string', minLength: 1, default: SENSE_DEFAULTS.user.id },
      },
    },
    rejectUnauthorized: { type: 'boolean', default: SENSE_DEFAULTS.rejectUnauthorized },
    virtualProxy: {
      type: 'object',
      additionalProperties: false,
      required: ['prefix', 'headerName'],
      description: 'Optional: reach QRS through a header-authentication virtual proxy instead (QLIK-PROTOCOLS §1.4)',
      properties: {
        prefix: { type: 'string', pattern: '^[A-Za-z0-9_-]+$' },
        port: { type: 'integer', minimum: 1, maximum: 65535, default: SENSE_DEFAULTS.virtualProxy.port },
        headerName: { type: 'string', minLength: 1 },
        userHeaderValue: { type: 'string', minLength: 1, description: 'Defaults to <user.directory>\\<user.id>' },
      },
    },
  },
} as const

export interface SenseCertsConfig {
  dir: string
  clientCert?: string
  clientKey?: string
  rootCa?: string
  passphrase?: string
}

export interface VirtualProxyConfig {
  prefix: string
  port: number
  headerName: string
  userHeaderValue?: string
}

/** The slice after defaults are applied (by ajv or by `senseConfigWithDefaults`). */
export interface SenseConfig {
  host?: string
  qrs: { port: number; timeoutMs: number; retries: number }
  engine: { port: number; timeoutMs: number; schemaVersion: string }
  certs: SenseCertsConfig
  user: { directory: string; id: string }
  rejectUnauthorized: boolean
  virtualProxy?: VirtualProxyConfig
}

/** What a config file may contain: everything optional except the virtual proxy's own essentials. */
export interface SenseConfigInput {
  host?: string
  qrs?: Partial<SenseConfig['qrs']>
  engine?: Partial<SenseConfig['engine']>
  certs?: Partial<SenseCertsConfig>
  user?: Partial<SenseConfig['user']>
  rejectUnauthorized?: boolean
  virtualProxy?: Omit<VirtualProxyConfig, 'port'> & { port?: number }
}

/** The same defaults as the schema, for callers (tests, the simulator) that build the slice in code. */
export function senseConfigWithDefaults(input: SenseConfigInput = {}): SenseConfig {
  const config: SenseConfig = {
    qrs: { ...SENSE_DEFAULTS.qrs, ...input.qrs },
    engine: { ...SENSE_DEFAULTS.engine, ...input.engine },
    certs: { ...SENSE_DEFAULTS.certs, ...input.certs },
    user: { ...SENSE_DEFAULTS.user, ...input.user },
    rejectUnauthorized: input.rejectUnauthorized ?? SENSE_DEFAULTS.rejectUnauthorized,
  }
  if (input.host !== undefined) config.host = input.host
  if (input.virtualProxy) config.virtualProxy = { port: SENSE_DEFAULTS.virtualProxy.port, ...input.virtualProxy }
  return config
}

/** Sense features are on only when a host is configured. */
export function isSenseEnabled(config: SenseConfig): config is SenseConfig & { host: string } {
  return typeof config.host === 'string' && config.host.length > 0
}
