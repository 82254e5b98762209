import { type Static, Type } from '@sinclair/typebox'
import { CapabilityError } from '../../core/errors.js'
import { BUTLER_KV_ERRORS, iso, kvCapability, requireKvAccess, requireNamespace } from './context.js'
import * as s from './schema.js'

/** ECMAScript's largest Date (epoch ms). */
const MAX_DATE_MS = 8.64e15
// With the u flag a surrogate pair is one code point, so this matches only lone surrogates: valid
// JSON escapes that have no UTF-8 form (LevelDB would store U+FFFD) and no URI form (the mirror topic).
const LONE_SURROGATE = /[\uD800-\uDFFF]/u

export const kvSet = kvCapability({
  name: 'kv/set',
  roles: ['loadscript'],
  summary: 'Set a key (creates the namespace on demand); a ttl in ms makes it expire, and an update resets it',
  request: s.setRequest,
  result: s.setResult,
  example: {
    request: { namespace: 'etl', key: 'lastRun', value: '2026-11-28', ttl: 60000 },
    result: {
      namespace: 'etl',
      key: 'lastRun',
      value: '2026-11-28',
      ttl: 60000,
      expiresAt: '2026-11-28T03:01:00.000Z',
    },
  },
  routes: [
    {
      method: 'POST',
      path: '/v4/keyvalues/:namespace',
      butlerFlag: 'keyValueStore',
      toRequest: ({ params, body }) => {
        const fields = isObject(body) ? { ...body } : {}
        // Butler's Fastify schema coerced a number key to a string; load scripts may rely on it.
        if (typeof fields.key === 'number') fields.key = String(fields.key)
        return { ...fields, namespace: params.namespace } as Static<typeof s.setRequest>
      },
      status: 201,
      toBody: (d) => ({ namespace: d.namespace, key: d.key, value: d.value, ttl: d.ttl }),
      response: Type.Object({
        namespace: Type.String(),
        key: Type.String(),
        value: Type.String(),
        ttl: Type.Optional(Type.Integer()),
      }),
      errorStatus: BUTLER_KV_ERRORS,
    },
  ],
  async handle(req, { state, access }) {
    requireKvAccess(access, req.namespace)
    const ttl = req.ttl === undefined ? 0 : Number(req.ttl)
    // The deadline must be a representable Date, or the mirror and every later read of the key fail.
    if (!Number.isSafeInteger(ttl) || Date.now() + ttl > MAX_DATE_MS) {
      throw new CapabilityError('VALIDATION_FAILED', 'ttl is too large', {
        details: [{ path: '/ttl', message: `must be at most ${MAX_DATE_MS - Date.now()} ms` }],
      })
    }
    const value = String(req.value)
    const malformed = (['namespace', 'key', 'value'] as const).filter((field) =>
      LONE_SURROGATE.test(field === 'value' ? value : req[field]),
    )
    if (malformed.length > 0) {
      throw new CapabilityError(
        'VALIDATION_FAILED',
        `Request is invalid: ${malformed.map((f) => `/${f}`).join(', ')} must be well-formed Unicode`,
        {
          details: malformed.map((f) => ({
            path: `/${f}`,
            message: 'must be well-formed Unicode (no lone surrogates)',
          })),
        },
      )
    }
    const entry = await state.store.set(req.namespace, req.key, value, ttl)
    return { namespace: req.namespace, key: req.key, value, ttl, expiresAt: iso(entry.expiresAt) }
  },
})

export const kvDelete = kvCapability({
  name: 'kv/delete',
  roles: ['loadscript'],
  summary: 'Delete a key; NOT_FOUND when the namespace or key does not exist',
  request: s.keyRequest,
  result: s.deleteResult,
  example: {
    request: { namespace: 'etl', key: 'lastRun' },
    result: { namespace: 'etl', key: 'lastRun', deleted: true },
  },
  routes: [
    {
      method: 'DELETE',
      path: '/v4/keyvalues/:namespace/:key',
      butlerFlag: 'keyValueStore',
      toRequest: ({ params }) => ({ namespace: params.namespace ?? '', key: params.key ?? '' }),
      status: 204,
      errorStatus: BUTLER_KV_ERRORS,
    },
  ],
  async handle(req, { state, access }) {
    requireKvAccess(access, req.namespace)
    await requireNamespace(state.store, req.namespace)
    if (!(await state.store.delete(req.namespace, req.key))) {
      throw new CapabilityError('NOT_FOUND', `Key '${req.key}' does not exist in namespace '${req.namespace}'`, {
        details: { namespace: req.namespace, key: req.key },
      })
    }
    return { namespace: req.namespace, key: req.key, deleted: true as const }
  },
})

export const kvDeleteNamespace = kvCapability({
  name: 'kv/delete-namespace',
  roles: ['loadscript'],
  summary: 'Delete a namespace and every key in it',
  request: s.namespaceRequest,
  result: s.deleteNamespaceResult,
  example: { request: { namespace: 'etl' }, result: { namespace: 'etl', deletedKeys: 3 } },
  routes: [
    {
      method: 'DELETE',
      path: '/v4/keyvalues/:namespace',
      butlerFlag: 'keyValueStore',
      toRequest: ({ params }) => ({ namespace: params.namespace ?? '' }),
      status: 204,
      errorStatus: BUTLER_KV_ERRORS,
    },
  ],
  async handle(req, { state, access }) {
    requireKvAccess(access, req.namespace)
    const deletedKeys = await state.store.deleteNamespace(req.namespace)
    if (deletedKeys === undefined)
      throw new CapabilityError('NOT_FOUND', `Namespace '${req.namespace}' does not exist`, {
        details: { namespace: req.namespace },
      })
    return { namespace: req.namespace, deletedKeys }
  },
})

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v)
}
