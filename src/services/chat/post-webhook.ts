import { DeliveryError, retryAfterMs } from '../outbox/errors.js'

/** How much of a receiver's error body goes into the delivery error (Slack explains in a word or two). */
const MAX_ERROR_BODY = 200

/**
 * POSTs JSON to a chat webhook and sorts the outcome for the outbox: a 4xx is the receiver saying the
 * message itself is wrong (bad payload, unknown channel, revoked webhook), so retrying cannot help;
 * 408, 429, 5xx and network trouble pass. Error messages never carry the URL: it is the secret.
 */
export async function postWebhook(
  service: string,
  url: string,
  body: unknown,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<{ status: number; response: string }> {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new DeliveryError(`${service}: the webhook URL is not a valid URL`, { permanent: true })
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw new DeliveryError(`${service}: the webhook URL must be http(s)`, { permanent: true })
  let res: Response
  try {
    res = await fetch(parsed, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(body),
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
      redirect: 'error',
    })
  } catch (err) {
    throw new DeliveryError(`${service}: ${networkReason(err)}`)
  }
  const text = await res.text().catch(() => '')
  if (res.ok) return { status: res.status, response: text.slice(0, MAX_ERROR_BODY) }
  const said = text.trim().slice(0, MAX_ERROR_BODY)
  const message = `${service}: HTTP ${res.status}${said ? ` ${said}` : ''}`
  const retryable = res.status >= 500 || res.status === 429 || res.status === 408
  const wait = retryAfterMs(res.headers.get('retry-after') ?? undefined)
  throw new DeliveryError(message, { permanent: !retryable, ...(wait !== undefined ? { retryAfterMs: wait } : {}) })
}

/** A network failure in words, without the address fetch may put into its message. */
function networkReason(err: unknown): string {
  const e = err as Error & { cause?: { code?: string } }
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'no answer in time'
  const code = e.cause?.code
  return code ? `network error (${code})` : 'network error'
}
