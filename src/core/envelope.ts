import { randomUUID } from 'node:crypto'
import type { ErrorCode } from './errors.js'

/** Reserved request keys: correlation and where to answer. Everything else is the capability's. */
export const RESERVED_KEYS = ['transaction', 'replyTo'] as const

export interface OkEnvelope<T = unknown> {
  transaction?: string
  status: 'ok'
  data: T
}

export interface ErrorBody {
  code: ErrorCode
  message: string
  details: unknown
}

export interface ErrorEnvelope {
  transaction?: string
  status: 'error'
  error: ErrorBody
}

export type Envelope<T = unknown> = OkEnvelope<T> | ErrorEnvelope

/** CloudEvents structured form, as every `sense/event/...` payload. */
export interface EventEnvelope<T = unknown> {
  id: string
  time: string
  type: string
  source: string
  data: T
}

export function ok<T>(transaction: string | undefined, data: T): OkEnvelope<T> {
  return transaction === undefined ? { status: 'ok', data } : { transaction, status: 'ok', data }
}

export function fail(
  transaction: string | undefined,
  code: ErrorCode,
  message: string,
  details: unknown = null,
): ErrorEnvelope {
  const error = { code, message, details }
  return transaction === undefined ? { status: 'error', error } : { transaction, status: 'error', error }
}

export function event<T>(type: string, source: string, data: T): EventEnvelope<T> {
  return { id: randomUUID(), time: new Date().toISOString(), type, source, data }
}

/**
 * The transaction is echoed whatever its JSON type, as long as it is a string or a number: a caller
 * that sends 7 gets "7" back, so matching never silently fails on a type mismatch.
 */
export function pickTransaction(msg: unknown): string | undefined {
  if (!msg || typeof msg !== 'object' || Array.isArray(msg)) return undefined
  const t = (msg as Record<string, unknown>).transaction
  if (typeof t === 'string') return t
  if (typeof t === 'number' && Number.isFinite(t)) return String(t)
  return undefined
}

export function isEnvelope(value: unknown): value is Envelope {
  if (!value || typeof value !== 'object') return false
  const status = (value as { status?: unknown }).status
  return status === 'ok' || status === 'error'
}
