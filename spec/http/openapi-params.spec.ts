import { describe, expect, it } from 'vitest'
import { modules } from '../../src/capabilities/index.js'
import { buildOpenApi } from '../../src/http/openapi.js'

describe('OpenAPI parameters', () => {
  it('documents the path and query parameters of Butler routes', () => {
    const doc = buildOpenApi(
      modules.flatMap((m) => m.capabilities),
      'test',
    ) as { paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string }> }>> }
    const names = (path: string, method: string) =>
      doc.paths[path]?.[method]?.parameters?.map((p) => `${p.in}:${p.name}`)
    expect(names('/v4/keyvalues/{namespace}', 'get')).toEqual(['path:namespace', 'query:key'])
    expect(names('/v4/keyvalues/{namespace}/keyexists', 'get')).toEqual(['path:namespace', 'query:key'])
    expect(names('/v4/base62tobase16', 'get')).toEqual(['query:base62'])
    expect(names('/v4/keyvalues/{namespace}/{key}', 'delete')).toEqual(['path:namespace', 'path:key'])
  })
})
