/**
 * The operational endpoints in the OpenAPI document: `GET /health`, `/health/live` and `/metrics` are not
 * capabilities (they never reach the bus), so the registry cannot describe them; this does, with the
 * shapes `src/ops/health-report.ts` and prom-client produce.
 */

export interface OpsPathsOptions {
  health: boolean
  metrics: boolean
  errorSchema: unknown
}

const componentSchema = {
  type: 'object',
  required: ['status'],
  properties: {
    status: { type: 'string', enum: ['ok', 'degraded', 'down', 'unconfigured'] },
    detail: { type: 'string', description: 'Why, when not ok' },
    since: { type: 'string', description: 'When the component entered this status (ISO 8601)' },
  },
}

export const healthReportSchema = {
  type: 'object',
  required: ['status', 'live', 'ready', 'version', 'uptimeSeconds', 'components'],
  properties: {
    status: {
      type: 'string',
      enum: ['ok', 'degraded', 'down'],
      description: 'ok: ready and nothing down; degraded: ready, something optional (Sense) is not; down: not ready',
    },
    live: { type: 'boolean', const: true },
    ready: { type: 'boolean', description: 'Requests can be served now' },
    version: { type: 'string' },
    uptimeSeconds: { type: 'integer', minimum: 0 },
    components: {
      type: 'object',
      description: 'broker, store, sense (when configured), service (while shutting down)',
      additionalProperties: componentSchema,
    },
  },
}

const json = (schema: unknown) => ({ 'application/json': { schema } })

export function opsPaths(opts: OpsPathsOptions): Record<string, Record<string, unknown>> {
  const tokenRefused = {
    401: {
      description: 'http.<endpoint>.auth is token and no valid API token was sent',
      content: json(opts.errorSchema),
    },
  }
  const paths: Record<string, Record<string, unknown>> = {}
  if (opts.health) {
    paths['/health'] = {
      get: {
        operationId: 'health',
        summary: 'Readiness: 200 when sensebus can serve requests, 503 when it cannot (for load balancers)',
        tags: ['operations'],
        responses: {
          200: { description: 'Ready (status ok or degraded)', content: json(healthReportSchema) },
          ...tokenRefused,
          503: { description: 'Not ready (status down): see components', content: json(healthReportSchema) },
        },
      },
    }
    paths['/health/live'] = {
      get: {
        operationId: 'health_live',
        summary: 'Liveness: 200 whenever the process answers HTTP (for restart-on-failure checks)',
        tags: ['operations'],
        responses: {
          200: {
            description: 'The process answers',
            content: json({
              type: 'object',
              required: ['live'],
              properties: { live: { type: 'boolean', const: true } },
            }),
          },
          ...tokenRefused,
        },
      },
    }
  }
  if (opts.metrics)
    paths['/metrics'] = {
      get: {
        operationId: 'metrics',
        summary: 'Prometheus metrics (text exposition format 0.0.4)',
        tags: ['operations'],
        responses: {
          200: {
            description: 'sensebus_* counters, gauges and histograms, and the process and Node.js metrics',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
          ...tokenRefused,
        },
      },
    }
  return paths
}
