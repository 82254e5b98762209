import type { JsonSchema } from '../core/validate.js'
import type { RoleSpec } from './roles.js'

const roleName = { type: 'string', pattern: '^[A-Za-z0-9_.-]+$' }
const roleList = { type: 'array', items: roleName, minItems: 1, uniqueItems: true }
const patternList = { type: 'array', items: { type: 'string', minLength: 1 }, default: [] }

/** PEM files for a TLS listener; `keyPassphrase` only when the key is encrypted. */
export const tlsFilesSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['certFile', 'keyFile'],
  properties: {
    certFile: { type: 'string', minLength: 1, description: 'PEM certificate chain' },
    keyFile: { type: 'string', minLength: 1, description: 'PEM private key' },
    caFile: { type: 'string', minLength: 1, description: 'PEM CA bundle that signs client certificates' },
    keyPassphrase: { type: 'string' },
  },
}

/** A TLS MQTT listener (mqtts or wss): off unless enabled; certificates are required then. */
export const tlsListenerSchema = (defaultPort: number): JsonSchema => ({
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    enabled: { type: 'boolean', default: false },
    host: { type: 'string', minLength: 1, default: '127.0.0.1' },
    port: { type: 'integer', minimum: 0, maximum: 65535, default: defaultPort },
    tls: tlsFilesSchema,
    clientCertificates: {
      enum: ['none', 'request', 'require'],
      default: 'none',
      description: "'request' maps a valid client certificate's CN to a user; 'require' refuses clients without one",
    },
  },
  if: { properties: { enabled: { const: true } }, required: ['enabled'] },
  then: { required: ['tls'] },
})

export const securityConfigSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    allowAnonymous: {
      type: 'boolean',
      description:
        'Unset: anonymous clients are admitted only while every listener is on loopback. true: always (warned); false: never',
    },
    anonymousRoles: {
      ...roleList,
      default: ['admin'],
      description: 'Roles of anonymous clients, where they are admitted',
    },
    users: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['username', 'roles'],
        properties: {
          username: { type: 'string', minLength: 1 },
          passwordHash: { type: 'string', pattern: '^scrypt\\$', description: 'From `sensebus passwd`' },
          certificateCN: {
            type: 'string',
            minLength: 1,
            description: 'A verified client certificate with this CN logs in as this user',
          },
          roles: roleList,
        },
        anyOf: [{ required: ['passwordHash'] }, { required: ['certificateCN'] }],
        description: 'a user needs a passwordHash, a certificateCN, or both',
      },
    },
    tokens: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'hash', 'roles'],
        properties: {
          name: { type: 'string', minLength: 1 },
          hash: { type: 'string', pattern: '^(sha256|scrypt)\\$', description: 'From `sensebus token`' },
          roles: roleList,
        },
      },
    },
    roles: {
      type: 'object',
      default: {},
      propertyNames: roleName,
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: { capabilities: patternList, publish: patternList, subscribe: patternList },
      },
    },
    audit: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        publish: {
          type: 'boolean',
          default: false,
          description: 'Also publish each audit record on <base>/event/audit',
        },
      },
    },
  },
}

export interface TlsFiles {
  certFile: string
  keyFile: string
  caFile?: string
  keyPassphrase?: string
}

export type ClientCertificates = 'none' | 'request' | 'require'

export interface TlsListenerConfig {
  enabled: boolean
  host: string
  port: number
  tls?: TlsFiles
  clientCertificates: ClientCertificates
}

export interface UserConfig {
  username: string
  passwordHash?: string
  certificateCN?: string
  roles: string[]
}

export interface TokenConfig {
  name: string
  hash: string
  roles: string[]
}

export interface SecurityConfig {
  allowAnonymous?: boolean
  anonymousRoles: string[]
  users: UserConfig[]
  tokens: TokenConfig[]
  roles: Record<string, RoleSpec>
  audit: { publish: boolean }
}
