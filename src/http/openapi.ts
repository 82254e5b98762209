import { STATUS_CODES } from 'node:http'
import type { Capability } from '../core/capability.js'
import { ERROR_STATUS } from '../core/errors.js'
import { opsPaths } from './openapi-ops.js'

const errorSchema = {
  type: 'object',
  required: ['code', 'message'],
  properties: { code: { type: 'string', enum: Object.keys(ERROR_STATUS) }, message: { type: 'string' }, details: {} },
}
const butlerErrorSchema = {
  type: 'object',
  required: ['statusCode', 'error', 'message'],
  properties: {
    statusCode: { type: 'integer' },
    error: { type: 'string' },
    message: { type: 'string' },
    code: { type: 'string' },
    details: {},
  },
}

const jsonContent = (schema: unknown) => ({ 'application/json': { schema } })

/**
 * OpenAPI 3 for both dialects, straight from the registry: the same schemas the bus validates with; plus
 * `/health` and `/metrics` unless `ops` says they are off (`http.health.enabled`, `http.metrics.enabled`).
 */
export function buildOpenApi(
  capabilities: Capability[],
  version: string,
  ops: { health: boolean; metrics: boolean } = { health: true, metrics: true },
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = { ...opsPaths({ ...ops, errorSchema }) }
  const add = (path: string, method: string, op: unknown) => {
    const oapiPath = path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')
    paths[oapiPath] = { ...paths[oapiPath], [method.toLowerCase()]: op }
  }
  for (const cap of capabilities) {
    add(`/api/v1/${cap.name}`, 'POST', {
      operationId: cap.name.replace(/\//g, '_'),
      summary: cap.summary,
      tags: [cap.name.split('/')[0]],
      requestBody: { required: false, content: jsonContent(cap.request) },
      responses: {
        200: { description: 'The result', content: jsonContent(cap.result) },
        '4XX': { description: 'The request was refused (see code)', content: jsonContent(errorSchema) },
        default: { description: 'An error', content: jsonContent(errorSchema) },
      },
    })
    for (const route of cap.routes ?? []) {
      const params = [
        ...[...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => ({
          name: m[1],
          in: 'path',
          required: true,
          schema: { type: 'string' },
        })),
        ...(route.query ?? []).map((name) => ({ name, in: 'query', required: true, schema: { type: 'string' } })),
      ]
      const status = route.status ?? 200
      add(route.path, route.method, {
        operationId: `butler_${route.method.toLowerCase()}_${route.path.replace(/[^A-Za-z0-9]+/g, '_')}`,
        summary: `${cap.summary} (Butler-compatible)`,
        tags: ['butler'],
        parameters: params,
        ...(route.method === 'POST' || route.method === 'PUT'
          ? { requestBody: { content: jsonContent({ type: 'object' }) } }
          : {}),
        responses: {
          [status]: {
            description: STATUS_CODES[status] ?? 'OK',
            ...(status === 204 ? {} : { content: jsonContent(route.response ?? (route.toBody ? {} : cap.result)) }),
          },
          '4XX': { description: 'The request was refused (see code)', content: jsonContent(butlerErrorSchema) },
          default: { description: 'An error', content: jsonContent(butlerErrorSchema) },
        },
      })
    }
  }
  return {
    // 3.1: the registry's schemas are plain JSON Schema (type arrays, const), which 3.0 does not allow.
    openapi: '3.1.0',
    info: {
      title: 'sensebus HTTP API',
      version,
      description: 'Each call becomes one request on the MQTT bus; /v4 paths speak Butler’s dialect.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    // Relative: the document is served by the sensebus it describes, wherever that listens.
    servers: [{ url: '/', description: 'This sensebus' }],
    // An API token from `sensebus token`; the empty alternative is anonymous access where allowed.
    security: [{ bearerToken: [] }, {}],
    paths,
    components: {
      securitySchemes: {
        bearerToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'A token of security.tokens (create one with `sensebus token`)',
        },
      },
    },
  }
}
