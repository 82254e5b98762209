import type { JsonSchema } from '../../core/validate.js'

// No NUL (the store's key separator); otherwise any text, as Butler allowed.
export const namespace = {
  type: 'string',
  minLength: 1,
  maxLength: 256,
  pattern: '^[^\\u0000]+$',
  description: 'Namespace, created on first set',
}
export const key = { type: 'string', minLength: 1, maxLength: 1024, description: 'Key within the namespace' }
const expiresAt = { type: ['string', 'null'], format: 'date-time', description: 'When the key expires; null = never' }

const obj = (properties: Record<string, JsonSchema>, required: string[]): JsonSchema => ({
  type: 'object',
  additionalProperties: false,
  required,
  properties,
})

export const setRequest = obj(
  {
    namespace,
    key,
    // Butler's load-script library sends numbers where strings are meant; they are stored as text.
    value: { type: ['string', 'number', 'boolean'], description: 'Stored as a string' },
    ttl: {
      description:
        'Time to live in ms; 0 or absent = no expiry. A digit string ("60000") is accepted, as Butler\'s load scripts send it',
      anyOf: [
        { type: 'integer', minimum: 0 },
        { type: 'string', pattern: '^[0-9]+$' },
      ],
    },
  },
  ['namespace', 'key', 'value'],
)
export const setResult = obj({ namespace, key, value: { type: 'string' }, ttl: { type: 'integer' }, expiresAt }, [
  'namespace',
  'key',
  'value',
  'ttl',
  'expiresAt',
])

export const keyRequest = obj({ namespace, key }, ['namespace', 'key'])
export const getResult = obj({ namespace, key, value: { type: 'string' }, expiresAt }, [
  'namespace',
  'key',
  'value',
  'expiresAt',
])
export const existsResult = obj({ namespace, key, exists: { type: 'boolean' }, value: { type: 'string' }, expiresAt }, [
  'namespace',
  'key',
  'exists',
])
export const deleteResult = obj({ namespace, key, deleted: { const: true } }, ['namespace', 'key', 'deleted'])

export const namespaceRequest = obj({ namespace }, ['namespace'])
export const deleteNamespaceResult = obj({ namespace, deletedKeys: { type: 'integer', minimum: 0 } }, [
  'namespace',
  'deletedKeys',
])
export const keysResult = obj(
  { namespace, keys: { type: 'array', items: obj({ key, expiresAt }, ['key', 'expiresAt']) } },
  ['namespace', 'keys'],
)

export const emptyRequest = obj({}, [])
export const namespacesResult = obj({ namespaces: { type: 'array', items: { type: 'string' } } }, ['namespaces'])

export const mirrorPayload = obj(
  { namespace, key, value: { type: 'string' }, expiresAt, updatedAt: { type: 'string', format: 'date-time' } },
  ['namespace', 'key', 'value', 'expiresAt', 'updatedAt'],
)

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    maxKeysPerNamespace: { type: 'integer', minimum: 1, default: 1000 },
    mirror: {
      type: 'boolean',
      default: true,
      description: 'Mirror every key as a retained message under <base>/state/kv/<namespace>/<key>',
    },
    sync: {
      type: 'boolean',
      default: true,
      description: 'fsync each write before acknowledging it (durable across power loss, not only crashes)',
    },
  },
}

export interface KvConfig {
  maxKeysPerNamespace: number
  mirror: boolean
  sync: boolean
}
