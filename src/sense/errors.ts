import { HTTPError, RequestError, TimeoutError } from 'got'
import { CapabilityError, type ErrorCode } from '../core/errors.js'

/**
 * The one translation table from failures talking to Qlik Sense to our error codes (HOUSE-STYLE §9.5).
 * Details carry method, path (never the xrfkey), status and the low-level error code; never certificate
 * contents, keys, passphrases or headers.
 */

export interface SenseCallContext {
  method: string
  /** Path plus query as the caller meant it, without the xrfkey parameter. */
  path: string
  /** The code a 404 becomes: NOT_FOUND for entity reads, SENSE_TASK_NOT_FOUND for task starts. */
  notFoundCode?: 'NOT_FOUND' | 'SENSE_TASK_NOT_FOUND'
}

export interface SenseErrorDetails {
  method: string
  path: string
  status?: number
  /** Low-level error code such as ECONNREFUSED or ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED. */
  errno?: string
  /** The start of the response body, e.g. QRS's "XSRF prevention check failed" text. */
  body?: string
}

/** Socket-level failures: the site is down, the name does not resolve, or the connection dropped. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EAI_AGAIN',
  'EPIPE',
  'ECONNABORTED',
  'EADDRNOTAVAIL',
  'ETIMEDOUT',
])

/** OpenSSL verification results Node reports as bare codes (tls.TLSSocket#authorizationError). */
const CERTIFICATE_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'EPROTO',
])

const BODY_EXCERPT_CHARS = 200

/** TLS handshake, certificate and local key problems: all mean "we could not prove who we are (or they are)". */
export function isTlsFailureCode(code: string | undefined): boolean {
  if (code === undefined) return false
  return CERTIFICATE_CODES.has(code) || /^ERR_(SSL|OSSL|TLS)_/.test(code)
}

/** Any error thrown while calling Sense → CapabilityError. Already-mapped errors pass through. */
export function toSenseError(err: unknown, ctx: SenseCallContext): CapabilityError {
  if (err instanceof CapabilityError) return err
  const where = `${ctx.method} ${ctx.path}`
  const details: SenseErrorDetails = { method: ctx.method, path: ctx.path }

  if (err instanceof HTTPError) {
    const status = err.response.statusCode
    details.status = status
    const body = bodyExcerpt(err.response.body)
    if (body) details.body = body
    return new CapabilityError(codeForStatus(status, ctx), `Sense QRS ${where} answered ${status}`, {
      details,
      cause: sanitizedCause(err),
    })
  }
  if (err instanceof TimeoutError) {
    details.errno = err.code
    return new CapabilityError('TIMEOUT', `Sense QRS ${where} timed out (${err.event})`, {
      details,
      cause: sanitizedCause(err),
    })
  }
  const errno = lowLevelCode(err)
  if (errno !== undefined) details.errno = errno
  if (isTlsFailureCode(errno)) {
    return new CapabilityError('SENSE_AUTH', `Sense QRS ${where}: TLS handshake or certificate failure (${errno})`, {
      details,
      cause: sanitizedCause(err),
    })
  }
  if (errno !== undefined && UNREACHABLE_CODES.has(errno)) {
    // A TLS server that rejects our client certificate after the handshake may just hang up, which looks
    // exactly like a dropped connection; say so, since it is the usual cause with a fresh QMC export.
    const hint = errno === 'ECONNRESET' ? '; if this persists, check that the site trusts our client certificate' : ''
    return new CapabilityError('SENSE_UNREACHABLE', `Sense QRS ${where}: unreachable (${errno})${hint}`, {
      details,
      cause: sanitizedCause(err),
    })
  }
  const reason = err instanceof Error ? err.message : String(err)
  return new CapabilityError('SENSE_ERROR', `Sense QRS ${where} failed: ${reason}`, {
    details,
    cause: sanitizedCause(err),
  })
}

/** A 2xx with the wrong status or a body of the wrong shape: QRS did something we do not understand. */
export function unexpectedResponse(ctx: SenseCallContext, status: number, reason: string): CapabilityError {
  return new CapabilityError('SENSE_ERROR', `Sense QRS ${ctx.method} ${ctx.path}: ${reason}`, {
    details: { method: ctx.method, path: ctx.path, status } satisfies SenseErrorDetails,
  })
}

/** An entity read that matched nothing (a filter query answering `[]`), reported like a 404. */
export function entityNotFound(ctx: SenseCallContext, what: string): CapabilityError {
  return new CapabilityError(ctx.notFoundCode ?? 'NOT_FOUND', `${what} not found in Sense`, {
    details: { method: ctx.method, path: ctx.path, status: 404 } satisfies SenseErrorDetails,
  })
}

function codeForStatus(status: number, ctx: SenseCallContext): ErrorCode {
  if (status === 401 || status === 403) return 'SENSE_AUTH'
  if (status === 404) return ctx.notFoundCode ?? 'NOT_FOUND'
  return 'SENSE_ERROR'
}

/** got wraps the socket error; its `code` is copied from the original, which is also kept as `cause`. */
function lowLevelCode(err: unknown): string | undefined {
  if (err instanceof RequestError) {
    const causeCode = (err.cause as NodeJS.ErrnoException | undefined)?.code
    return causeCode ?? err.code
  }
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  return typeof code === 'string' ? code : undefined
}

/**
 * got errors carry their request options as an enumerable property, and those reference the https agent
 * that holds our private key. Keep only name, message, code and stack, so no serializer can reach it.
 */
function sanitizedCause(err: unknown): Error {
  if (!(err instanceof Error)) return new Error(String(err))
  const clean = new Error(err.message) as NodeJS.ErrnoException
  clean.name = err.name
  const code = lowLevelCode(err)
  if (code !== undefined) clean.code = code
  if (err.stack !== undefined) clean.stack = err.stack
  return clean
}

function bodyExcerpt(body: unknown): string | undefined {
  const text = Buffer.isBuffer(body) ? body.toString('utf8') : typeof body === 'string' ? body : undefined
  if (!text) return undefined
  const trimmed = text.trim()
  return trimmed.length > BODY_EXCERPT_CHARS ? `${trimmed.slice(0, BODY_EXCERPT_CHARS)}…` : trimmed
}
