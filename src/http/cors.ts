import type { IncomingMessage, ServerResponse } from 'node:http'

/** CORS for web pages calling the shim. Returns true when the request was a preflight and is answered. */
export function applyCors(req: IncomingMessage, res: ServerResponse, origins: readonly string[]): boolean {
  const origin = req.headers.origin
  if (!origin || origins.length === 0) return false
  const allowed = origins.includes('*') ? '*' : origins.includes(origin) ? origin : undefined
  if (!allowed) return false
  res.setHeader('access-control-allow-origin', allowed)
  if (allowed !== '*') res.setHeader('vary', 'Origin')
  if (req.method !== 'OPTIONS' || !req.headers['access-control-request-method']) return false
  res.writeHead(204, {
    'access-control-allow-methods': 'GET, POST, PUT, DELETE, OPTIONS',
    'access-control-allow-headers': 'content-type, authorization, x-http-method-override',
    'access-control-max-age': '600',
  })
  res.end()
  return true
}
