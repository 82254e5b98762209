import type { IncomingMessage } from 'node:http'
import { CapabilityError } from '../core/errors.js'

/**
 * Reads a JSON body with a size cap. Empty bodies are fine (Qlik's REST connector often sends none);
 * a non-empty body must say it is JSON.
 */
export async function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0)
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
  if (type !== 'application/json' && !type.endsWith('+json')) {
    throw new CapabilityError(
      'UNSUPPORTED_MEDIA_TYPE',
      `Content-Type must be application/json, not '${type || 'none'}'`,
    )
  }
  try {
    return JSON.parse(text)
  } catch {
    throw new CapabilityError('BAD_JSON', 'Body is not valid JSON')
  }
}

/** The request stream broke before its end: logged briefly, answered only if the socket still is open. */
export class ClientAbortedError extends CapabilityError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('BAD_REQUEST', `The request body was not received completely (${message})`, options)
  }
}
