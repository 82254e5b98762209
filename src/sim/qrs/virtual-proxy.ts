import { randomUUID } from 'node:crypto'
import { createServer } from 'node:https'
import type { SimContext } from '../context.js'
import type { SimCertificates } from '../certs/cert-dir.js'
import { listen, type RunningServer } from '../net/listen.js'
import { text } from './http-util.js'
import { handleQrs, type Identify } from './pipeline.js'
import { qrsRoutes } from './server.js'

export interface VirtualProxyOptions {
  /** 0 picks a free port (a real QPS uses 443). */
  port: number
  /** Virtual-proxy prefix, e.g. `hdr` → `https://host/hdr/qrs/...`. */
  prefix: string
  /** The header carrying the user; it cannot be X-Qlik-User (§1.4). */
  header: string
  /** Static user directory; leave out for the dynamic form where the header holds `DIR\userid`. */
  userDirectory?: string
  /** Session cookie name configured on the virtual proxy (default `X-Qlik-Session-<prefix>`). */
  sessionCookie?: string
}

/**
 * The optional QPS-style listener with header authentication (QLIK-PROTOCOLS §1.4): TLS without a
 * client certificate, the user taken from the configured header, the same xrfkey rules and routes.
 */
export async function startVirtualProxy(
  ctx: SimContext,
  certs: SimCertificates,
  host: string,
  opts: VirtualProxyOptions,
): Promise<RunningServer> {
  const prefix = `/${opts.prefix.replace(/^\/+|\/+$/g, '')}`
  const headerName = opts.header.toLowerCase()
  const cookie = opts.sessionCookie ?? `X-Qlik-Session-${opts.prefix}`
  const identify: Identify = (req, c) => {
    const raw = req.headers[headerName]
    const value = (Array.isArray(raw) ? raw[0] : raw)?.trim()
    const q = c.texts.qrs
    if (!value) return { reject: text(q.virtualProxyMissingHeaderBody, q.virtualProxyMissingHeaderStatus) }
    if (opts.userDirectory) return { user: { directory: opts.userDirectory, userId: value } }
    const at = value.indexOf(q.virtualProxyDynamicSeparator)
    if (at <= 0) return { reject: text(q.virtualProxyMissingHeaderBody, q.virtualProxyMissingHeaderStatus) }
    return { user: { directory: value.slice(0, at), userId: value.slice(at + q.virtualProxyDynamicSeparator.length) } }
  }
  const routes = qrsRoutes()
  const server = createServer({ key: certs.server.key, cert: certs.server.cert })
  server.on('request', (req, res) => {
    if (!(req.headers.cookie ?? '').includes(`${cookie}=`)) {
      res.setHeader('set-cookie', `${cookie}=${randomUUID()}; Path=/; HttpOnly; Secure`)
    }
    void handleQrs(routes, ctx, identify, prefix, req, res)
  })
  return listen(server, host, opts.port)
}
