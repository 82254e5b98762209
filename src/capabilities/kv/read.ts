import { defineCapability } from '../../core/capability.js'
import { BUTLER_KV_ERRORS, iso, requireEntry, requireNamespace, type KvState } from './context.js'
import * as s from './schema.js'

interface KeyRequest {
  namespace: string
  key: string
}
const keyFromQuery = ({ params, query }: { params: Record<string, string>; query: Record<string, string> }) => ({
  namespace: params.namespace ?? '',
  key: query.key as string,
})

export const kvGet = defineCapability<
  KeyRequest,
  { namespace: string; key: string; value: string; expiresAt: string | null },
  KvState
>({
  name: 'kv/get',
  summary: 'Read a key; NOT_FOUND when the namespace or key does not exist',
  request: s.keyRequest,
  result: s.getResult,
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
      errorStatus: BUTLER_KV_ERRORS,
    },
  ],
  async handle(req, { state }) {
    const entry = requireEntry(state.store, req.namespace, req.key)
    return { namespace: req.namespace, key: req.key, value: entry.value, expiresAt: iso(entry.expiresAt) }
  },
})

type ExistsResult = { namespace: string; key: string; exists: boolean; value?: string; expiresAt?: string | null }

export const kvExists = defineCapability<KeyRequest, ExistsResult, KvState>({
  name: 'kv/exists',
  summary: 'Whether a key exists (NOT_FOUND when the namespace itself does not, as Butler)',
  request: s.keyRequest,
  result: s.existsResult,
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
      errorStatus: BUTLER_KV_ERRORS,
    },
  ],
  async handle(req, { state }) {
    requireNamespace(state.store, req.namespace)
    const entry = state.store.get(req.namespace, req.key)
    return entry
      ? { namespace: req.namespace, key: req.key, exists: true, value: entry.value, expiresAt: iso(entry.expiresAt) }
      : { namespace: req.namespace, key: req.key, exists: false }
  },
})

export const kvKeys = defineCapability<
  { namespace: string },
  { namespace: string; keys: Array<{ key: string; expiresAt: string | null }> },
  KvState
>({
  name: 'kv/keys',
  summary: 'List the keys of a namespace',
  request: s.namespaceRequest,
  result: s.keysResult,
  example: { request: { namespace: 'etl' }, result: { namespace: 'etl', keys: [{ key: 'lastRun', expiresAt: null }] } },
  routes: [
    {
      method: 'GET',
      path: '/v4/keylist/:namespace',
      butlerFlag: 'keyValueStore',
      toRequest: ({ params }) => ({ namespace: params.namespace ?? '' }),
      toBody: (d) => ({ namespace: d.namespace, keys: d.keys.map((k) => ({ key: k.key })) }),
      errorStatus: BUTLER_KV_ERRORS,
    },
  ],
  async handle(req, { state }) {
    requireNamespace(state.store, req.namespace)
    const keys = (state.store.entries(req.namespace) ?? []).map(([key, e]) => ({ key, expiresAt: iso(e.expiresAt) }))
    return { namespace: req.namespace, keys }
  },
})

export const kvNamespaces = defineCapability<Record<string, never>, { namespaces: string[] }, KvState>({
  name: 'kv/namespaces',
  summary: 'List the namespaces',
  request: s.emptyRequest,
  result: s.namespacesResult,
  example: { request: {}, result: { namespaces: ['etl'] } },
  routes: [
    {
      method: 'GET',
      path: '/v4/keyvaluesnamespaces',
      butlerFlag: 'keyValueStore',
      toRequest: () => ({}),
      toBody: (d) => d.namespaces,
    },
  ],
  async handle(_req, { state }) {
    return { namespaces: state.store.namespaces() }
  },
})
