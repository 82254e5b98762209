import { loadSenseCertificates, loadSenseRootCa } from '../certs.js'
import { isSenseEnabled, type SenseConfig } from '../config.js'
import type { QrsEndpoint } from './transport.js'

/** `X-Qlik-User` in Qlik's documented form, with the space after `;` (QLIK-PROTOCOLS §1.2). */
export function qlikUserHeader(user: SenseConfig['user']): string {
  return `UserDirectory=${user.directory}; UserId=${user.id}`
}

/**
 * Where and how to reach QRS. Direct (QLIK-PROTOCOLS §1.1-1.2): port 4242, client certificate,
 * `X-Qlik-User`. Through a header-authentication virtual proxy (§1.4): `/<prefix>/qrs/` on the proxy
 * port, the proxy's header instead of `X-Qlik-User`, no client certificate.
 */
export function qrsEndpoint(config: SenseConfig, tuning: { baseDir?: string; maxRetryDelayMs: number }): QrsEndpoint {
  if (!isSenseEnabled(config)) throw new Error('Sense is not configured: sense.host is missing')
  const host = config.host.includes(':') ? `[${config.host}]` : config.host
  const common = {
    timeoutMs: config.qrs.timeoutMs,
    retries: config.qrs.retries,
    maxRetryDelayMs: tuning.maxRetryDelayMs,
  }
  const vp = config.virtualProxy
  if (vp) {
    const ca = loadSenseRootCa(config.certs, tuning.baseDir)
    return {
      ...common,
      baseUrl: `https://${host}:${vp.port}/${vp.prefix}/qrs/`,
      authHeader: { name: vp.headerName, value: vp.userHeaderValue ?? `${config.user.directory}\\${config.user.id}` },
      tls: { ...(ca ? { ca } : {}), rejectUnauthorized: config.rejectUnauthorized },
    }
  }
  const certs = loadSenseCertificates(config.certs, tuning.baseDir)
  return {
    ...common,
    baseUrl: `https://${host}:${config.qrs.port}/qrs/`,
    authHeader: { name: 'X-Qlik-User', value: qlikUserHeader(config.user) },
    tls: { ...certs, rejectUnauthorized: config.rejectUnauthorized },
  }
}
