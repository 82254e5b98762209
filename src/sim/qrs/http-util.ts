import type { IncomingMessage, ServerResponse } from 'node:http'

/** What a QRS route handler returns; the server turns it into bytes. */
export interface QrsResponse {
  status: number
  json?: unknown
  text?: string
  contentType?: string
}

export const json = (body: unknown, status = 200): QrsResponse => ({ status, json: body })
export const text = (body: string, status: number, contentType = 'text/plain; charset=utf-8'): QrsResponse => ({
  status,
  text: body,
  contentType,
})
export const empty = (status: number): QrsResponse => ({ status })

export class QueryParseError extends Error {}

/**
 * Query parameters with lower-cased names (QLIK-PROTOCOLS §1.3, §1.8: names match case-insensitively)
 * and values decoded with decodeURIComponent. `+` stays a plus (§1.5.1: axios leaves it un-encoded).
 */
export function parseQuery(rawQuery: string): Map<string, string> {
  const params = new Map<string, string>()
  if (!rawQuery) return params
  for (const part of rawQuery.split('&')) {
    if (!part) continue
    const eq = part.indexOf('=')
    const rawName = eq < 0 ? part : part.slice(0, eq)
    const rawValue = eq < 0 ? '' : part.slice(eq + 1)
    try {
      const name = decodeURIComponent(rawName).toLowerCase()
      if (!params.has(name)) params.set(name, decodeURIComponent(rawValue))
    } catch {
      throw new QueryParseError(`Bad percent-encoding in '${part}'`)
    }
  }
  return params
}

export async function readBody(req: IncomingMessage, limit = 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    const buf = chunk as Buffer
    size += buf.length
    if (size > limit) throw new Error('Request body too large')
    chunks.push(buf)
  }
  return Buffer.concat(chunks).toString('utf8')
}

export function writeResponse(res: ServerResponse, response: QrsResponse): void {
  if (response.json !== undefined) {
    const body = JSON.stringify(response.json)
    res.writeHead(response.status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    })
    res.end(body)
    return
  }
  if (response.text !== undefined && response.text !== '') {
    res.writeHead(response.status, {
      'content-type': response.contentType ?? 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(response.text),
    })
    res.end(response.text)
    return
  }
  res.writeHead(response.status, { 'content-length': 0 })
  res.end()
}
