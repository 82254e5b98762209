import { type Static, Type } from '@sinclair/typebox'
import { section } from '../core/schema.js'

const roleName = Type.String({ pattern: '^[A-Za-z0-9_.-]+$' })
const roleList = (options: object = {}) => Type.Array(roleName, { minItems: 1, uniqueItems: true, ...options })
const patternList = Type.Array(Type.String({ minLength: 1 }), { default: [] })

export const userSchema = Type.Object(
  {
    username: Type.String({ minLength: 1 }),
    passwordHash: Type.Optional(Type.String({ pattern: '^scrypt\\$', description: 'From `sensebus passwd`' })),
    certificateCN: Type.Optional(
      Type.String({ minLength: 1, description: 'A verified client certificate with this CN logs in as this user' }),
    ),
    roles: roleList(),
  },
  {
    additionalProperties: false,
    anyOf: [{ required: ['passwordHash'] }, { required: ['certificateCN'] }],
    description: 'a user needs a passwordHash, a certificateCN, or both',
  },
)
export type UserConfig = Static<typeof userSchema>

export const tokenSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    hash: Type.String({ pattern: '^(sha256|scrypt)\\$', description: 'From `sensebus token`' }),
    roles: roleList(),
  },
  { additionalProperties: false },
)
export type TokenConfig = Static<typeof tokenSchema>

export const roleSpecSchema = Type.Object(
  {
    capabilities: patternList,
    publish: patternList,
    subscribe: patternList,
    denyPublish: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: 'Topic filters this role may never publish on, whatever any grant says',
    }),
    denySubscribe: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: 'Topic filters this role never receives: covering subscriptions are refused, others filtered',
    }),
    kv: Type.Optional(
      Type.Object(
        {
          namespaces: Type.Array(Type.String({ minLength: 1 }), {
            description: "KV namespaces this role reaches (`*` matches any characters: 'reports/*')",
          }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
)
/** A role as written in config: topic patterns may use `{base}` for the base topic. */
export type RoleSpec = Partial<Static<typeof roleSpecSchema>>

export const securityConfigSchema = section({
  allowAnonymous: Type.Optional(
    Type.Boolean({
      description:
        'Unset: anonymous clients are admitted only while every listener is on loopback. true: always (warned); ' +
        'false: never',
    }),
  ),
  anonymousRoles: roleList({ default: ['admin'], description: 'Roles of anonymous clients, where they are admitted' }),
  users: Type.Array(userSchema, { default: [] }),
  tokens: Type.Array(tokenSchema, { default: [] }),
  roles: Type.Record(Type.String(), roleSpecSchema, { default: {}, propertyNames: roleName }),
  audit: section({
    log: Type.Boolean({ default: true, description: 'Write one log line per request (area: audit)' }),
    publish: Type.Boolean({ default: false, description: 'Also publish each audit record on <base>/event/audit' }),
  }),
})
export type SecurityConfig = Static<typeof securityConfigSchema>
