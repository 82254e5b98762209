import { type Static, Type } from '@sinclair/typebox'
import { closed, isoDateTime, limit, nullable, section } from '../../core/schema.js'

// No NUL (the store's key separator); otherwise any text, as Butler allowed.
export const namespace = Type.String({
  minLength: 1,
  maxLength: 256,
  pattern: '^[^\\u0000]+$',
  description: 'Namespace, created on first set',
})
export const key = Type.String({ minLength: 1, maxLength: 1024, description: 'Key within the namespace' })
const expiresAt = nullable(isoDateTime('When the key expires; null = never'))

export const setRequest = closed({
  namespace,
  key,
  // Butler's load-script library sends numbers where strings are meant; they are stored as text.
  value: Type.Union([Type.String(), Type.Number(), Type.Boolean()], { description: 'Stored as a string' }),
  ttl: Type.Optional(
    Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^[0-9]+$' })], {
      description:
        'Time to live in ms; 0 or absent = no expiry. A digit string ("60000") is accepted, as load scripts send it',
    }),
  ),
})
export const setResult = closed({ namespace, key, value: Type.String(), ttl: Type.Integer(), expiresAt })

export const keyRequest = closed({ namespace, key })
export const getResult = closed({ namespace, key, value: Type.String(), expiresAt })
export const existsResult = closed({
  namespace,
  key,
  exists: Type.Boolean(),
  value: Type.Optional(Type.String()),
  expiresAt: Type.Optional(expiresAt),
})
export const deleteResult = closed({ namespace, key, deleted: Type.Literal(true) })

export const namespaceRequest = closed({ namespace })
export const deleteNamespaceResult = closed({ namespace, deletedKeys: Type.Integer({ minimum: 0 }) })
export const keysResult = closed({ namespace, keys: Type.Array(closed({ key, expiresAt })) })

export const emptyRequest = closed({})
export const namespacesResult = closed({ namespaces: Type.Array(Type.String()) })

export const mirrorSchema = closed({
  namespace,
  key,
  value: Type.String(),
  expiresAt,
  updatedAt: isoDateTime(),
  truncated: Type.Optional(
    Type.Boolean({ description: 'The value is larger than kv.mirrorMaxValueBytes: read it with kv/get' }),
  ),
})

export const configSchema = section({
  maxKeysPerNamespace: limit(1000, 'Keys one namespace may hold'),
  maxNamespaces: limit(1000, 'Namespaces the store may hold'),
  maxKeys: limit(100_000, 'Keys the whole store may hold'),
  maxBytes: limit(256 * 1024 * 1024, 'Bytes of namespaces, keys and values the whole store may hold'),
  maxValueBytes: limit(1024 * 1024, 'Largest value'),
  mirror: Type.Boolean({
    default: true,
    description: 'Mirror every key as a retained message under <base>/state/kv/<namespace>/<key>',
  }),
  mirrorMaxValueBytes: limit(
    64 * 1024,
    'Larger values are mirrored without the value (truncated: true), so the broker does not hold them in memory',
  ),
})

export type KvConfig = Static<typeof configSchema>
