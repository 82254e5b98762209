import type { CapabilityModule } from '../core/capability.js'
import type { JsonSchema } from '../core/validate.js'
import {
  securityConfigSchema,
  tlsFilesSchema,
  tlsListenerSchema,
  type SecurityConfig,
  type TlsFiles,
  type TlsListenerConfig,
} from '../security/config.js'
import { senseConfigSchema, type SenseConfig } from '../sense/config.js'

const port = (def: number): JsonSchema => ({
  type: 'integer',
  minimum: 0,
  maximum: 65535,
  default: def,
  description: '0 picks a free port',
})
const host = { type: 'string', minLength: 1, default: '127.0.0.1' }

const listener = (def: number): JsonSchema => ({
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: { enabled: { type: 'boolean', default: true }, host, port: port(def) },
})

/**
 * The root config schema: fixed sections plus one slice per capability module, so adding a module
 * adds its settings without touching this file.
 */
export function buildConfigSchema(modules: CapabilityModule[]): JsonSchema {
  const capabilityProps: Record<string, JsonSchema> = {
    disabled: {
      type: 'array',
      default: [],
      items: { type: 'string', pattern: '^[a-z0-9-]+/([a-z0-9-]+|\\*)$' },
      description: "Capabilities to switch off: 'kv/delete-namespace' or a whole area 'kv/*'",
    },
  }
  for (const m of modules) capabilityProps[m.area] = { default: {}, ...m.configSchema }
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      version: { type: 'integer', enum: [1], default: 1 },
      baseTopic: { type: 'string', pattern: '^[^#+/$][^#+]*[^#+/]$|^[^#+/$]$', default: 'sense' },
      dataDir: { type: 'string', minLength: 1, default: './data' },
      log: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
        },
      },
      broker: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          url: {
            type: 'string',
            pattern: '^(mqtts?|wss?)://',
            description: 'External broker: no embedded broker is started',
          },
          username: { type: 'string' },
          password: { type: 'string' },
          clientId: { type: 'string', minLength: 1 },
          sharedGroup: {
            type: 'string',
            pattern: '^[A-Za-z0-9_-]+$',
            description: 'Several sensebus instances on one external broker share requests',
          },
          mqtt: listener(1883),
          ws: listener(9001),
          mqtts: tlsListenerSchema(8883),
          wss: tlsListenerSchema(9443),
          maxPayloadBytes: {
            type: 'integer',
            minimum: 1,
            default: 1_048_576,
            description: 'Largest MQTT payload; a bigger PUBLISH closes the connection',
          },
          maxConnections: {
            type: 'integer',
            minimum: 1,
            default: 1000,
            description: 'Open MQTT connections over all listeners; more get CONNACK 3',
          },
          connectTimeoutMs: {
            type: 'integer',
            minimum: 100,
            default: 10_000,
            description: 'Time a new connection has to send CONNECT',
          },
        },
      },
      http: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          enabled: { type: 'boolean', default: true },
          host,
          port: port(8080),
          bodyLimitBytes: { type: 'integer', minimum: 1, default: 1_048_576 },
          requestTimeoutMs: { type: 'integer', minimum: 1, default: 30_000 },
          headersTimeoutMs: {
            type: 'integer',
            minimum: 100,
            default: 10_000,
            description: 'Time a client has to send its request headers (slowloris guard)',
          },
          bodyTimeoutMs: {
            type: 'integer',
            minimum: 100,
            default: 10_000,
            description: 'Time a client has to send its body once the headers are in',
          },
          maxConnections: {
            type: 'integer',
            minimum: 1,
            default: 256,
            description: 'Open HTTP connections; more are answered 503 BUSY and closed',
          },
          tls: { ...tlsFilesSchema, description: 'Serve HTTPS with these PEM files' },
          cors: {
            type: 'object',
            additionalProperties: false,
            default: {},
            properties: {
              origins: {
                type: 'array',
                items: { type: 'string' },
                default: [],
                description: "Allowed origins; '*' allows any",
              },
            },
          },
        },
      },
      bus: {
        type: 'object',
        additionalProperties: false,
        default: {},
        properties: {
          maxInFlight: { type: 'integer', minimum: 1, default: 256 },
          maxInFlightPerClient: {
            type: 'integer',
            minimum: 1,
            default: 32,
            description: 'Requests one MQTT client may have in flight; more are answered BUSY',
          },
          requestTimeoutMs: { type: 'integer', minimum: 1, default: 30_000 },
        },
      },
      sense: senseConfigSchema,
      security: securityConfigSchema,
      capabilities: { type: 'object', additionalProperties: false, default: {}, properties: capabilityProps },
    },
  }
}

interface Listen {
  enabled: boolean
  host: string
  port: number
}

/** The validated config, every default filled in. */
export interface Config {
  version: 1
  baseTopic: string
  dataDir: string
  log: { level: string }
  broker: {
    url?: string
    username?: string
    password?: string
    clientId?: string
    sharedGroup?: string
    mqtt: Listen
    ws: Listen
    mqtts: TlsListenerConfig
    wss: TlsListenerConfig
    maxPayloadBytes: number
    maxConnections: number
    connectTimeoutMs: number
  }
  http: Listen & {
    bodyLimitBytes: number
    requestTimeoutMs: number
    headersTimeoutMs: number
    bodyTimeoutMs: number
    maxConnections: number
    tls?: TlsFiles
    cors: { origins: string[] }
  }
  bus: { maxInFlight: number; maxInFlightPerClient: number; requestTimeoutMs: number }
  sense: SenseConfig
  security: SecurityConfig
  capabilities: { disabled: string[] } & Record<string, unknown>
}
