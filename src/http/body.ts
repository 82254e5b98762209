import type { IncomingMessage } from 'node:http'
import { CapabilityError } from '../core/errors.js'

/**
 * Reads a JSON body with a size cap. Empty bodies are fine (Qlik's REST connector often sends none).
 * A non-empty body is read as JSON when it says so (application/json, application/*+json), and also when
 * it names no type or text/plain, as long as it parses: Butler's load-script subs hand their JSON body to
 * the REST connector without a Content-Type header (butler_subs.qvs, ReloadSenseApp), and callers that
 * send JSON as text/plain are common. See {@link lenientAllowed} for the browser exception.
 */
export async function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  const length = req.headers['content-length']
  // RFC 9112 §6.3: without Content-Length or Transfer-Encoding a request has no body. Most calls (every GET)
  // are like that; returning here saves reading an empty stream (an async iterator and an event-loop turn).
  // Node discards whatever is left unread once the response is sent, so keep-alive is unaffected.
  if ((length === undefined || length === '0') && req.headers['transfer-encoding'] === undefined) return undefined
  const declared = Number(length ?? 0)
  if (declared > limitBytes) throw new CapabilityError('PAYLOAD_TOO_LARGE', `Body exceeds ${limitBytes} bytes`)
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length
      if (size > limitBytes) throw new CapabilityError('PAYLOAD_TOO_LARGE', `Body exceeds ${limitBytes} bytes`)
      chunks.push(chunk)
    }
  } catch (err) {
    if (err instanceof CapabilityError) throw err
    // The client went away mid-body (ECONNRESET, 'aborted'): its mistake, not ours, and nobody is left to answer.
    throw new ClientAbortedError((err as Error).message, { cause: err })
  }
  const text = Buffer.concat(chunks).toString('utf8')
  if (text.trim() === '') return undefined
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
  const json = type === 'application/json' || type.endsWith('+json')
  if (!json && !LENIENT.has(type)) {
    throw new CapabilityError(
      'UNSUPPORTED_MEDIA_TYPE',
      `Content-Type must be application/json (or none, or text/plain, with a JSON body), not '${type}'`,
    )
  }
  if (!json && !lenientAllowed(req)) {
    throw new CapabilityError(
      'UNSUPPORTED_MEDIA_TYPE',
      `A browser request must send Content-Type: application/json, not '${type || 'none'}'`,
    )
  }
  try {
    return JSON.parse(text)
  } catch {
    const sent = json ? '' : ` (sent as ${type || 'no Content-Type'}, which is taken only when the body is JSON)`
    throw new CapabilityError('BAD_JSON', `Body is not valid JSON${sent}`)
  }
}

/** Content types read as JSON when the body parses: none at all, and text/plain. */
const LENIENT = new Set(['', 'text/plain'])

/**
 * A web page may POST text/plain (or no type) to any origin without a CORS preflight, so taking such a
 * body from a browser would let any page the user visits start tasks through an anonymous shim (CSRF).
 * Browsers always send Origin on those requests; load scripts, curl and services do not.
 */
function lenientAllowed(req: IncomingMessage): boolean {
  return req.headers.origin === undefined
}

/** The request stream broke before its end: logged briefly, answered only if the socket still is open. */
export class ClientAbortedError extends CapabilityError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('BAD_REQUEST', `The request body was not received completely (${message})`, options)
  }
}
