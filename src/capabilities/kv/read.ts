import { Type } from '@sinclair/typebox'
import type { HttpRequestParts } from '../../core/capability.js'
import { BUTLER_KV_ERRORS, iso, kvCapability, requireEntry, requireKvAccess, requireNamespace } from './context.js'
import * as s from './schema.js'

const keyFromQuery = ({ params, query }: HttpRequestParts) => ({
  namespace: params.namespace ?? '',
  key: query.key as string,
})

export const kvGet = kvCapability({
  name: 'kv/get',
  summary: 'Read a key; NOT_FOUND when the namespace or key does not exist',
  request: s.keyRequest,
  result: s.getResult,
  roles: ['loadscript'],
  example: {
    request: { namespace: 'etl', key: 'lastRun' },
    result: { namespace: 'etl', key: 'lastRun', value: '2026-11-28', expiresAt: null },
  },
  routes: [
    {
      method: 'GET',
      path: '/v4/keyvalues/:namespace',
      butlerFlag: 'keyValueStore',
      query: ['key'],
      toRequest: keyFromQuery,
      toBody: (d) => ({ namespace: d.namespace, key: d.key, value: d.value }),
      response: Type.Object({ namespace: Type.String(), key: Type.String(), value: Type.String() }),
      errorStatus: BUTLER_KV_ERRORS,
    },
  ],
  async handle(req, { state, access }) {
    requireKvAccess(access, req.namespace)
    const entry = await requireEntry(state.store, req.namespace, req.key)
    return { namespace: req.namespace, key: req.key, value: entry.value, expiresAt: iso(entry.expiresAt) }
  },
})

export const kvExists = kvCapability({
  name: 'kv/exists',
  summary: 'Whether a key exists (NOT_FOUND when the namespace itself does not, as Butler)',
  request: s.keyRequest,
  result: s.existsResult,
  roles: ['loadscript'],
  example: {
    request: { namespace: 'etl', key: 'lastRun' },
    result: { namespace: 'etl', key: 'lastRun', exists: true, value: '2026-11-28', expiresAt: null },
  },
  routes: [
    {
      method: 'GET',
      path: '/v4/keyvalues/:namespace/keyexists',
      butlerFlag: 'keyValueStore',
      query: ['key'],
      toRequest: keyFromQuery,
      toBody: (d) =>
        d.exists
          ? { keyExists: true, keyValue: { namespace: d.namespace, key: d.key, value: d.value } }
          : { keyExists: false, keyValue: {} },
      response: Type.Object({
        keyExists: Type.Boolean(),
        keyValue: Type.Union([
          Type.Object({ namespace: Type.String(), key: Type.String(), value: Type.String() }),
          Type.Object({}),
        ]),
      }),
      errorStatus: BUTLER_KV_ERRORS,
    },
  ],
  async handle(req, { state, access }) {
    requireKvAccess(access, req.namespace)
    await requireNamespace(state.store, req.namespace)
    const entry = await state.store.get(req.namespace, req.key)
    return entry
      ? { namespace: req.namespace, key: req.key, exists: true, value: entry.value, expiresAt: iso(entry.expiresAt) }
      : { namespace: req.namespace, key: req.key, exists: false }
  },
})

export const kvKeys = kvCapability({
  name: 'kv/keys',
  summary: 'List the keys of a namespace',
  request: s.namespaceRequest,
  result: s.keysResult,
  roles: ['loadscript'],
  example: { request: { namespace: 'etl' }, result: { namespace: 'etl', keys: [{ key: 'lastRun', expiresAt: null }] } },
  routes: [
    {
      method: 'GET',
      path: '/v4/keylist/:namespace',
      butlerFlag: 'keyValueStore',
      toRequest: ({ params }) => ({ namespace: params.namespace ?? '' }),
      toBody: (d) => ({ namespace: d.namespace, keys: d.keys.map((k) => ({ key: k.key })) }),
      response: Type.Object({ namespace: Type.String(), keys: Type.Array(Type.Object({ key: Type.String() })) }),
      errorStatus: BUTLER_KV_ERRORS,
    },
  ],
  async handle(req, { state, access }) {
    requireKvAccess(access, req.namespace)
    await requireNamespace(state.store, req.namespace)
    const keys = (state.store.keys(req.namespace) ?? []).map((k) => ({ key: k.key, expiresAt: iso(k.expiresAt) }))
    return { namespace: req.namespace, keys }
  },
})

export const kvNamespaces = kvCapability({
  name: 'kv/namespaces',
  summary: 'List the namespaces',
  request: s.emptyRequest,
  result: s.namespacesResult,
  roles: ['loadscript'],
  example: { request: {}, result: { namespaces: ['etl'] } },
  routes: [
    {
      method: 'GET',
      path: '/v4/keyvaluesnamespaces',
      butlerFlag: 'keyValueStore',
      toRequest: () => ({}),
      toBody: (d) => d.namespaces,
      response: Type.Array(Type.String()),
    },
  ],
  async handle(_req, { state, access }) {
    await state.store.refresh()
    return { namespaces: state.store.namespaces().filter((ns) => access.kvNamespace(ns)) }
  },
})
