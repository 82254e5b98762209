import type { ServerResponse } from 'node:http'
import { STATUS_CODES } from 'node:http'
import type { ErrorBody } from '../core/envelope.js'
import type { Dialect } from './routes.js'

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return
  if (status === 204 || body === undefined) {
    res.writeHead(status).end()
    return
  }
  const text = JSON.stringify(body)
  res
    .writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) })
    .end(text)
}

/**
 * Error bodies per dialect: our `{code, message, details}`, or Butler's `{statusCode, error, message}`
 * (what Fastify's http-errors produce) with our code added so scripts can still tell causes apart.
 */
export function sendError(res: ServerResponse, dialect: Dialect, status: number, error: ErrorBody): void {
  const body =
    dialect === 'butler'
      ? {
          statusCode: status,
          error: STATUS_CODES[status] ?? 'Error',
          message: error.message,
          code: error.code,
          details: error.details,
        }
      : { code: error.code, message: error.message, details: error.details }
  sendJson(res, status, body)
}
