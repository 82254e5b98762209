import { readFileSync } from 'node:fs'
import type { SecureContextOptions, TLSSocket } from 'node:tls'
import type { ClientCertificates, TlsFiles } from './tls-config.js'

export interface ServerTlsOptions extends SecureContextOptions {
  requestCert: boolean
  rejectUnauthorized: boolean
  handshakeTimeout: number
}

/** Node waits 120 s for a TLS handshake by default: long enough to hold sockets open for free. */
const HANDSHAKE_TIMEOUT_MS = 10_000

function readPem(path: string, what: string, setting: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    throw new Error(
      `Cannot read the ${what} for ${setting} (${path}): ` +
        `${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { cause: err },
    )
  }
}

/**
 * TLS server options from PEM files, read once at start-up so a missing or unreadable file stops
 * sensebus with the setting that names it. `request` asks for a client certificate and only trusts
 * one the CA verified; `require` also ends handshakes without one.
 */
export function serverTlsOptions(
  files: TlsFiles,
  clientCertificates: ClientCertificates,
  setting: string,
): ServerTlsOptions {
  if (clientCertificates !== 'none' && !files.caFile) {
    throw new Error(
      `${setting}.caFile is required when clientCertificates is '${clientCertificates}': it is the CA that signs ` +
        `client certificates`,
    )
  }
  return {
    cert: readPem(files.certFile, 'certificate', setting),
    key: readPem(files.keyFile, 'private key', setting),
    ...(files.caFile ? { ca: readPem(files.caFile, 'CA bundle', setting) } : {}),
    ...(files.keyPassphrase !== undefined ? { passphrase: files.keyPassphrase } : {}),
    requestCert: clientCertificates !== 'none',
    rejectUnauthorized: clientCertificates === 'require',
    handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
  }
}

/** The CN of a client certificate the CA verified; unverified certificates identify nobody. */
export function verifiedCommonName(socket: TLSSocket): string | undefined {
  if (!socket.authorized) return undefined
  const cn = socket.getPeerCertificate()?.subject?.CN as string | string[] | undefined
  return Array.isArray(cn) ? cn[0] : cn
}
