import { createServer } from 'node:https'
import type { SimContext } from '../context.js'
import type { SimCertificates } from '../certs/cert-dir.js'
import { listen, type RunningServer } from '../net/listen.js'
import { handleQrs, identifyDirect } from './pipeline.js'
import type { QrsRoute } from './router.js'
import { collectionRoutes } from './routes/collections.js'
import { miscRoutes } from './routes/misc.js'
import { scriptLogRoutes } from './routes/scriptlog.js'
import { taskStartRoutes } from './routes/task-start.js'

/** Every QRS route, most specific first. */
export function qrsRoutes(): QrsRoute[] {
  return [...taskStartRoutes(), ...scriptLogRoutes(), ...miscRoutes(), ...collectionRoutes()]
}

/**
 * The QRS face on the direct port (QLIK-PROTOCOLS §1.1-1.3, §4.2): HTTPS that requires a client
 * certificate signed by the simulator CA. With the default `noClientCertPolicy: 'tls'` a client without
 * one (or with a foreign one) fails the TLS handshake, as a client talking to port 4242 without the
 * QMC-exported certificate does; 'http-403' lets TLS complete and answers 403 instead.
 */
export async function startQrsFace(
  ctx: SimContext,
  certs: SimCertificates,
  host: string,
  port: number,
): Promise<RunningServer> {
  const routes = qrsRoutes()
  const server = createServer({
    key: certs.server.key,
    cert: certs.server.cert,
    ca: certs.ca,
    requestCert: true,
    rejectUnauthorized: ctx.texts.qrs.noClientCertPolicy === 'tls',
  })
  server.on('request', (req, res) => {
    void handleQrs(routes, ctx, identifyDirect, '', req, res)
  })
  server.on('tlsClientError', (err) => ctx.log.debug({ err: err.message }, 'QRS TLS handshake refused'))
  return listen(server, host, port)
}
