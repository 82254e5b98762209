import { Agent } from 'node:https'
import { got, type Got, type Method } from 'got'
import type { Logger } from '../../log.js'
import { toSenseError, unexpectedResponse, type SenseCallContext } from '../errors.js'
import { EXPECTED_STATUS, type ExpectedStatus } from './expected-status.js'
import { newXrfkey } from './xrfkey.js'

/**
 * One HTTPS connection pool and one got instance for every QRS call. Knows the URL layout, the xrfkey
 * and user headers, timeouts, retries and error mapping; knows nothing about entities.
 */

export interface QrsEndpoint {
  /** `https://host:4242/qrs/` direct, or `https://host:443/<prefix>/qrs/` through a virtual proxy. */
  baseUrl: string
  /** The authentication header: `X-Qlik-User` direct, the virtual proxy's own header otherwise. */
  authHeader: { name: string; value: string }
  tls: { cert?: Buffer; key?: Buffer; ca?: Buffer; passphrase?: string; rejectUnauthorized: boolean }
  timeoutMs: number
  /** Retries for GET only. */
  retries: number
  /** Upper bound of the pause between GET retries (got backs off 1 s, 2 s, … up to this). */
  maxRetryDelayMs: number
}

export type Query = Record<string, string | undefined>

export interface QrsCall {
  method: Extract<Method, 'GET' | 'POST' | 'PUT' | 'DELETE'>
  /** Relative to `/qrs/`, e.g. `task/full`. Ids in it must already be encoded. */
  path: string
  query?: Query
  body?: unknown
  expect: ExpectedStatus
  notFoundCode?: SenseCallContext['notFoundCode']
}

export interface QrsResponse {
  status: number
  body: string
  ctx: SenseCallContext
}

export interface QrsTransport {
  send(call: QrsCall): Promise<QrsResponse>
  /** Sends and parses a JSON body; a body that is not JSON is a SENSE_ERROR. */
  sendJson(call: QrsCall): Promise<{ data: unknown; ctx: SenseCallContext; status: number }>
  close(): void
}

export function createQrsTransport(endpoint: QrsEndpoint, log: Logger): QrsTransport {
  // QLIK-PROTOCOLS §1.2: the QMC client certificate goes on the agent, so every pooled socket presents it
  // and got's own (enumerable) request options never hold key material.
  const agent = new Agent({
    keepAlive: true,
    maxSockets: 16,
    cert: endpoint.tls.cert,
    key: endpoint.tls.key,
    ca: endpoint.tls.ca,
    passphrase: endpoint.tls.passphrase,
    rejectUnauthorized: endpoint.tls.rejectUnauthorized,
  })
  const client: Got = got.extend({
    agent: { https: agent },
    https: { rejectUnauthorized: endpoint.tls.rejectUnauthorized },
    timeout: { request: endpoint.timeoutMs },
    responseType: 'text',
    throwHttpErrors: true,
    // QRS never redirects; a proxy that does would get our user header (through a virtual proxy, the
    // credential itself) replayed to wherever it points. Surface the 3xx instead.
    followRedirect: false,
    headers: {
      // QLIK-PROTOCOLS §1.1: Butler sends Content-Type: application/json on every request.
      'content-type': 'application/json',
      'user-agent': 'sensebus',
      [endpoint.authHeader.name]: endpoint.authHeader.value,
    },
    hooks: {
      beforeRetry: [
        (error, retryCount) => {
          log.debug({ method: error.options.method, code: error.code, retryCount }, 'retrying QRS read')
        },
      ],
    },
  })

  const origin = new URL(endpoint.baseUrl).origin

  async function send(call: QrsCall): Promise<QrsResponse> {
    const displayPath = pathWithQuery(endpoint.baseUrl, call.path, call.query)
    const ctx: SenseCallContext = { method: call.method, path: displayPath }
    if (call.notFoundCode !== undefined) ctx.notFoundCode = call.notFoundCode
    // QLIK-PROTOCOLS §1.3: the same fresh key as query parameter and header, on every method.
    const xrfkey = newXrfkey()
    const url = `${origin}${displayPath}${displayPath.includes('?') ? '&' : '?'}xrfkey=${xrfkey}`
    const started = Date.now()
    try {
      const response = await client(url, {
        method: call.method,
        headers: { 'x-qlik-xrfkey': xrfkey },
        ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
        // Reads are idempotent; a start must never run twice because a response got lost.
        retry: {
          limit: call.method === 'GET' ? endpoint.retries : 0,
          methods: ['GET'],
          calculateDelay: ({ computedValue }) => Math.min(computedValue, endpoint.maxRetryDelayMs),
        },
      })
      const status = response.statusCode
      log.debug({ method: call.method, path: displayPath, status, ms: Date.now() - started }, 'QRS call')
      const allowed: readonly number[] = EXPECTED_STATUS[call.expect]
      if (!allowed.includes(status)) {
        throw unexpectedResponse(ctx, status, `expected status ${allowed.join(' or ')}, got ${status}`)
      }
      return { status, body: response.body, ctx }
    } catch (err) {
      const mapped = toSenseError(err, ctx)
      log.debug(
        { method: call.method, path: displayPath, code: mapped.code, ms: Date.now() - started },
        'QRS call failed',
      )
      throw mapped
    }
  }

  async function sendJson(call: QrsCall): Promise<{ data: unknown; ctx: SenseCallContext; status: number }> {
    const { status, body, ctx } = await send(call)
    try {
      return { data: JSON.parse(body) as unknown, ctx, status }
    } catch {
      throw unexpectedResponse(ctx, status, 'response body is not JSON')
    }
  }

  return { send, sendJson, close: () => agent.destroy() }
}

/**
 * The absolute path plus query, as it appears in errors and logs (never the xrfkey). Values are
 * encoded with encodeURIComponent: a space becomes %20, never `+`, which QRS may not decode
 * (QLIK-PROTOCOLS §1.5.1, "URL encoding").
 */
function pathWithQuery(baseUrl: string, path: string, query: Query | undefined): string {
  const base = new URL(baseUrl)
  const pairs = Object.entries(query ?? {}).filter((entry): entry is [string, string] => entry[1] !== undefined)
  const search = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')
  return `${base.pathname}${path}${search ? `?${search}` : ''}`
}
