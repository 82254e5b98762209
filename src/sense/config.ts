import { type Static, type TProperties, Type } from '@sinclair/typebox'

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
  healthIntervalMs: 30_000,
} as const

const port = (def: number) => Type.Integer({ minimum: 1, maximum: 65535, default: def })
const obj = <P extends TProperties>(properties: P, options: object = {}) =>
  Type.Object(properties, { additionalProperties: false, default: {}, ...options })

/**
 * The `sense:` section (TypeBox: JSON Schema at run time, the `SenseConfig` type at compile time).
 * `host` has no default on purpose: without it the Sense features are disabled.
 */
export const senseConfigSchema = obj({
  host: Type.Optional(
    Type.String({ minLength: 1, description: 'Sense server host name; absent => Sense features disabled' }),
  ),
  qrs: obj({
    port: port(SENSE_DEFAULTS.qrs.port),
    timeoutMs: Type.Integer({ minimum: 1, default: SENSE_DEFAULTS.qrs.timeoutMs }),
    retries: Type.Integer({
      minimum: 0,
      maximum: 10,
      default: SENSE_DEFAULTS.qrs.retries,
      description: 'Retries for idempotent reads (GET) only; starts are never retried',
    }),
  }),
  engine: obj({
    port: port(SENSE_DEFAULTS.engine.port),
    timeoutMs: Type.Integer({ minimum: 1, default: SENSE_DEFAULTS.engine.timeoutMs }),
    schemaVersion: Type.String({ minLength: 1, default: SENSE_DEFAULTS.engine.schemaVersion }),
  }),
  certs: obj(
    {
      dir: Type.String({ minLength: 1, default: SENSE_DEFAULTS.certs.dir }),
      clientCert: Type.Optional(Type.String({ minLength: 1 })),
      clientKey: Type.Optional(Type.String({ minLength: 1 })),
      rootCa: Type.Optional(Type.String({ minLength: 1 })),
      passphrase: Type.Optional(Type.String()),
    },
    {
      description:
        'QMC certificate export: a directory with client.pem, client_key.pem and root.pem, or explicit files ' +
        '(these win over dir)',
    },
  ),
  user: obj(
    {
      directory: Type.String({ minLength: 1, default: SENSE_DEFAULTS.user.directory }),
      id: Type.String({ minLength: 1, default: SENSE_DEFAULTS.user.id }),
    },
    { description: 'The user QRS calls run as (X-Qlik-User), QLIK-PROTOCOLS §1.2' },
  ),
  rejectUnauthorized: Type.Boolean({ default: SENSE_DEFAULTS.rejectUnauthorized }),
  healthIntervalMs: Type.Integer({
    minimum: 100,
    default: SENSE_DEFAULTS.healthIntervalMs,
    description: 'How often sensebus checks that QRS answers (GET /qrs/about); failures make the bridge degraded',
  }),
  virtualProxy: Type.Optional(
    Type.Object(
      {
        prefix: Type.String({ pattern: '^[A-Za-z0-9_-]+$' }),
        port: port(SENSE_DEFAULTS.virtualProxy.port),
        headerName: Type.String({ minLength: 1 }),
        userHeaderValue: Type.Optional(
          Type.String({ minLength: 1, description: 'Defaults to <user.directory>\\<user.id>' }),
        ),
      },
      {
        additionalProperties: false,
        description: 'Optional: reach QRS through a header-authentication virtual proxy instead (QLIK-PROTOCOLS §1.4)',
      },
    ),
  ),
})

/** The section after defaults are applied (by ajv or by `senseConfigWithDefaults`). */
export type SenseConfig = Static<typeof senseConfigSchema>
export type SenseCertsConfig = SenseConfig['certs']
export type VirtualProxyConfig = NonNullable<SenseConfig['virtualProxy']>

/** What a config file may contain: everything optional except the virtual proxy's own essentials. */
export interface SenseConfigInput {
  host?: string
  qrs?: Partial<SenseConfig['qrs']>
  engine?: Partial<SenseConfig['engine']>
  certs?: Partial<SenseCertsConfig>
  user?: Partial<SenseConfig['user']>
  rejectUnauthorized?: boolean
  healthIntervalMs?: number
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
    healthIntervalMs: input.healthIntervalMs ?? SENSE_DEFAULTS.healthIntervalMs,
  }
  if (input.host !== undefined) config.host = input.host
  if (input.virtualProxy) config.virtualProxy = { port: SENSE_DEFAULTS.virtualProxy.port, ...input.virtualProxy }
  return config
}

/** Sense features are on only when a host is configured. */
export function isSenseEnabled(config: SenseConfig): config is SenseConfig & { host: string } {
  return typeof config.host === 'string' && config.host.length > 0
}
