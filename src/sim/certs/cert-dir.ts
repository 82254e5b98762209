import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import type { Logger } from '../../log.js'
import { altNamesOf, createCa, createLeaf, isUsable, type PemPair } from './generate.js'

/**
 * The certificate directory in the QMC export layout (QLIK-PROTOCOLS §1.2): `client.pem`,
 * `client_key.pem`, `root.pem`, plus `server.pem`/`server_key.pem`. The CA key (`root_key.pem`) is
 * kept so the server certificate can be reissued when the host changes.
 */
export const CERT_FILES = {
  root: 'root.pem',
  rootKey: 'root_key.pem',
  server: 'server.pem',
  serverKey: 'server_key.pem',
  client: 'client.pem',
  clientKey: 'client_key.pem',
} as const

export interface SimCertificates {
  dir: string
  ca: string
  server: PemPair
  client: PemPair
  paths: { [K in keyof typeof CERT_FILES]: string }
}

async function readOptional(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8')
  } catch {
    return null
  }
}

/** localhost, loopback addresses, the machine's name and the host the faces listen on. */
export function serverAltNames(host: string): string[] {
  const names = new Set(['localhost', '127.0.0.1', '::1', hostname()])
  if (host && host !== '0.0.0.0' && host !== '::') names.add(host)
  return [...names]
}

/**
 * Creates the CA, server and client certificates on first use and reuses them later. The server
 * certificate is reissued (same CA) when it lacks a SAN for `host`.
 */
export async function ensureCertificates(dir: string, host: string, log: Logger): Promise<SimCertificates> {
  await mkdir(dir, { recursive: true })
  const paths = Object.fromEntries(
    Object.entries(CERT_FILES).map(([k, f]) => [k, join(dir, f)]),
  ) as SimCertificates['paths']
  const [rootPem, rootKey, serverPem, serverKey, clientPem, clientKey] = await Promise.all(
    [paths.root, paths.rootKey, paths.server, paths.serverKey, paths.client, paths.clientKey].map(readOptional),
  )

  let ca: PemPair
  let fresh = false
  if (rootPem && rootKey) {
    ca = { cert: rootPem, key: rootKey }
  } else {
    log.info({ dir }, 'creating simulator CA')
    ca = createCa(`${hostname()}-CA`)
    fresh = true
    await writeFile(paths.root, ca.cert)
    await writeFile(paths.rootKey, ca.key, { mode: 0o600 })
  }

  const wanted = serverAltNames(host)
  let server: PemPair
  if (
    !fresh &&
    serverPem &&
    serverKey &&
    isUsable(serverPem, ca.cert) &&
    wanted.every((n) => altNamesOf(serverPem).includes(n))
  ) {
    server = { cert: serverPem, key: serverKey }
  } else {
    server = createLeaf(ca, { commonName: host || 'localhost', altNames: wanted, usage: 'server' })
    await writeFile(paths.server, server.cert)
    await writeFile(paths.serverKey, server.key, { mode: 0o600 })
  }

  let client: PemPair
  if (!fresh && clientPem && clientKey && isUsable(clientPem, ca.cert)) {
    client = { cert: clientPem, key: clientKey }
  } else {
    // QSEoW's exported client certificate is issued to "QlikClient".
    client = createLeaf(ca, { commonName: 'QlikClient', usage: 'client' })
    await writeFile(paths.client, client.cert)
    await writeFile(paths.clientKey, client.key, { mode: 0o600 })
  }

  return { dir, ca: ca.cert, server, client, paths }
}
