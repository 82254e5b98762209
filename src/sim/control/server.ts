import { createServer } from 'node:http'
import { listen, type RunningServer } from '../net/listen.js'
import { readBody } from '../qrs/http-util.js'
import { controlRoutes, type ControlDeps, type ControlResult } from './routes.js'

export const CONTROL_PREFIX = '/__sim'

function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/')
  const got = path.split('/')
  if (want.length !== got.length) return null
  const params: Record<string, string> = {}
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as string
    const g = decodeURIComponent(got[i] as string)
    if (w.startsWith(':')) params[w.slice(1)] = g
    else if (w !== g) return null
  }
  return params
}

/** The control API (QLIK-PROTOCOLS §4.7) on its own plain-HTTP port; bind it to loopback. */
export async function startControlApi(deps: ControlDeps, host: string, port: number): Promise<RunningServer> {
  const routes = controlRoutes(deps)
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://control')
      const path = url.pathname.startsWith(`${CONTROL_PREFIX}/`) ? url.pathname.slice(CONTROL_PREFIX.length + 1) : null
      let result: ControlResult = [404, { error: 'not found' }]
      try {
        const raw = await readBody(req)
        const body = raw.trim() ? (JSON.parse(raw) as unknown) : {}
        if (body === null || typeof body !== 'object' || Array.isArray(body)) {
          result = [400, { error: 'body must be a JSON object' }]
        } else if (path !== null) {
          for (const r of routes) {
            const params = r.method === req.method ? match(r.path, path) : null
            if (params) {
              result = await r.handler(params, body as Record<string, unknown>, url.searchParams)
              break
            }
          }
        }
      } catch (err) {
        result = err instanceof SyntaxError ? [400, { error: 'body is not JSON' }] : [500, { error: String(err) }]
        if (!(err instanceof SyntaxError)) deps.ctx.log.error({ err }, 'control API handler failed')
      }
      const [status, payload] = result
      if (status === 204) {
        res.writeHead(204)
        res.end()
        return
      }
      const text = JSON.stringify(payload)
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(text),
      })
      res.end(text)
    })()
  })
  return listen(server, host, port)
}
