/**
 * How a delivery failed, as the outbox needs to know it: try again later (and when), or never.
 * Destinations (SMTP, webhooks, Slack, Teams) translate their own errors into this one shape.
 */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly options: {
      /** A retry cannot succeed (a 4xx from a webhook, a rejected recipient): dead-letter at once. */
      permanent?: boolean
      /** The receiver asked for a pause (Retry-After); the next attempt waits at least this long. */
      retryAfterMs?: number
      cause?: unknown
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'DeliveryError'
  }

  get permanent(): boolean {
    return this.options.permanent === true
  }
}

/** `Retry-After` as seconds or an HTTP date, in ms from now; undefined when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header
  if (value === undefined || value.trim() === '') return undefined
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}
