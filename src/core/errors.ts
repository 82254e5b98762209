/**
 * The one table of error codes sensebus answers with. Every envelope, HTTP status and CLI exit code
 * derives from it, so a code means the same thing on every transport.
 */
export const ERROR_STATUS = {
  BAD_JSON: 400,
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  HEADERS_TOO_LARGE: 431,
  UNSUPPORTED_MEDIA_TYPE: 415,
  LIMIT_EXCEEDED: 429,
  BUSY: 503,
  SHUTTING_DOWN: 503,
  NOT_CONFIGURED: 503,
  BROKER_UNAVAILABLE: 503,
  CANCELLED: 409,
  TIMEOUT: 504,
  SENSE_TASK_NOT_FOUND: 404,
  SENSE_AUTH: 502,
  SENSE_UNREACHABLE: 502,
  SENSE_ERROR: 502,
  DELIVERY_FAILED: 502,
  INTERNAL: 500,
} as const

export type ErrorCode = keyof typeof ERROR_STATUS

export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[]

export function httpStatusOf(code: string): number {
  return (ERROR_STATUS as Record<string, number>)[code] ?? 500
}

/**
 * What handlers throw. The dispatcher turns it into an error envelope; anything else thrown becomes
 * INTERNAL (logged with its stack, never sent).
 */
export class CapabilityError extends Error {
  readonly code: ErrorCode
  readonly details: unknown

  constructor(code: ErrorCode, message: string, options: { details?: unknown; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'CapabilityError'
    this.code = code
    this.details = options.details ?? null
  }

  toJSON(): { code: ErrorCode; message: string; details: unknown } {
    return { code: this.code, message: this.message, details: this.details }
  }
}

export function isCapabilityError(err: unknown): err is CapabilityError {
  return err instanceof CapabilityError
}

/** Anything thrown → a CapabilityError; unknown errors become INTERNAL with a generic message. */
export function toCapabilityError(err: unknown): CapabilityError {
  if (isCapabilityError(err)) return err
  return new CapabilityError('INTERNAL', 'Internal error', { cause: err })
}
