import { randomUUID } from 'node:crypto'
import type { ErrorCode } from './errors.js'

/**
 * Reserved request keys: correlation, where to answer, and (for long-running capabilities) whether
 * to wait for the final result. Everything else is the capability's.
 */
export const RESERVED_KEYS = ['transaction', 'replyTo', 'wait'] as const

/** Echoed back exactly as sent, string or number, so callers can match on it either way. */
export type Transaction = string | number

export interface OkEnvelope<T = unknown> {
  transaction?: Transaction
  status: 'ok'
  data: T
}

export interface ErrorBody {
  code: ErrorCode
  message: string
  details: unknown
}

export interface ErrorEnvelope {
  transaction?: Transaction
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

export function ok<T>(transaction: Transaction | undefined, data: T): OkEnvelope<T> {
  return transaction === undefined ? { status: 'ok', data } : { transaction, status: 'ok', data }
}

export function fail(
  transaction: Transaction | undefined,
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

/** The request's transaction, when it is a string or a finite number; anything else is not echoed. */
export function pickTransaction(msg: unknown): Transaction | undefined {
  if (!msg || typeof msg !== 'object' || Array.isArray(msg)) return undefined
  const t = (msg as Record<string, unknown>).transaction
  if (typeof t === 'string') return t
  if (typeof t === 'number' && Number.isFinite(t)) return t
  return undefined
}

/** Transactions compare as text: 7 and "7" name the same request. */
export function sameTransaction(a: Transaction | undefined, b: Transaction | undefined): boolean {
  return a !== undefined && b !== undefined && String(a) === String(b)
}

export function isEnvelope(value: unknown): value is Envelope {
  if (!value || typeof value !== 'object') return false
  const status = (value as { status?: unknown }).status
  return status === 'ok' || status === 'error'
}
