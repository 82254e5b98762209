import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer as createHttpsServer, type Server } from 'node:https'
import type { IncomingMessage } from 'node:http'
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer as createTlsServer } from 'node:tls'
import forge from 'node-forge'
import { CapabilityError } from '../../src/core/errors.js'
import { senseConfigWithDefaults, type SenseConfig, type SenseConfigInput } from '../../src/sense/config.js'

/** Test-only helpers for the QRS client specs: a throwaway PKI and tiny HTTPS servers on port 0. */

export interface TestPki {
  dir: string
  caPem: string
  serverCertPem: string
  serverKeyPem: string
  clientCertPem: string
  clientKeyPem: string
}

function makeCert(opts: {
  subjectCn: string
  keys: forge.pki.rsa.KeyPair
  issuer?: { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey }
  isCa?: boolean
  serverNames?: boolean
  serial: string
}): forge.pki.Certificate {
  const cert = forge.pki.createCertificate()
  cert.publicKey = opts.keys.publicKey
  cert.serialNumber = opts.serial
  cert.validity.notBefore = new Date(Date.now() - 60_000)
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000)
  const subject = [{ name: 'commonName', value: opts.subjectCn }]
  cert.setSubject(subject)
  cert.setIssuer(opts.issuer ? opts.issuer.cert.subject.attributes : subject)
  const extensions: object[] = [{ name: 'basicConstraints', cA: opts.isCa === true }]
  if (opts.isCa) extensions.push({ name: 'keyUsage', keyCertSign: true, cRLSign: true })
  if (opts.serverNames) {
    extensions.push({
      name: 'subjectAltName',
      altNames: [
        { type: 2, value: 'localhost' },
        { type: 7, ip: '127.0.0.1' },
      ],
    })
  }
  cert.setExtensions(extensions)
  cert.sign(opts.issuer?.key ?? opts.keys.privateKey, forge.md.sha256.create())
  return cert
}

/** CA + server + client, written in the QMC export layout (client.pem, client_key.pem, root.pem). */
export function makeTestPki(commonName = 'test-ca'): TestPki {
  const caKeys = forge.pki.rsa.generateKeyPair(1024)
  const ca = makeCert({ subjectCn: commonName, keys: caKeys, isCa: true, serial: '01' })
  const issuer = { cert: ca, key: caKeys.privateKey }
  const serverKeys = forge.pki.rsa.generateKeyPair(1024)
  const server = makeCert({ subjectCn: 'localhost', keys: serverKeys, issuer, serverNames: true, serial: '02' })
  const clientKeys = forge.pki.rsa.generateKeyPair(1024)
  const client = makeCert({ subjectCn: 'QlikClient', keys: clientKeys, issuer, serial: '03' })
  const pki: TestPki = {
    dir: mkdtempSync(join(tmpdir(), 'sensebus-qrs-')),
    caPem: forge.pki.certificateToPem(ca),
    serverCertPem: forge.pki.certificateToPem(server),
    serverKeyPem: forge.pki.privateKeyToPem(serverKeys.privateKey),
    clientCertPem: forge.pki.certificateToPem(client),
    clientKeyPem: forge.pki.privateKeyToPem(clientKeys.privateKey),
  }
  writeFileSync(join(pki.dir, 'client.pem'), pki.clientCertPem)
  writeFileSync(join(pki.dir, 'client_key.pem'), pki.clientKeyPem)
  writeFileSync(join(pki.dir, 'root.pem'), pki.caPem)
  return pki
}

export interface RecordedRequest {
  method: string
  /** Raw request target as sent, e.g. `/qrs/task/full?filter=name%20eq%20'x'&xrfkey=…`. */
  url: string
  pathname: string
  /** Query parameters decoded with decodeURIComponent (QLIK-PROTOCOLS §1.5.1: no `+` → space). */
  query: Record<string, string>
  headers: IncomingMessage['headers']
  body: string
  clientCertSubject: string | null
  remotePort: number | undefined
}

export interface FakeReply {
  status: number
  body?: unknown
  contentType?: string
}

export type FakeHandler = (req: RecordedRequest) => FakeReply | Promise<FakeReply>

export interface FakeQrs {
  port: number
  requests: RecordedRequest[]
  close(): Promise<void>
}

function parseQuery(url: string): Record<string, string> {
  const query: Record<string, string> = {}
  const search = url.includes('?') ? url.slice(url.indexOf('?') + 1) : ''
  for (const pair of search.split('&').filter(Boolean)) {
    const eq = pair.indexOf('=')
    const key = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq))
    query[key] = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1))
  }
  return query
}

/** An HTTPS server in QRS's image: requires a client certificate unless `requestCert: false`. */
export async function startFakeQrs(
  pki: TestPki,
  handler: FakeHandler,
  opts: { requestCert?: boolean } = {},
): Promise<FakeQrs> {
  const requests: RecordedRequest[] = []
  const sockets = new Set<Socket>()
  const requestCert = opts.requestCert ?? true
  const server: Server = createHttpsServer(
    { key: pki.serverKeyPem, cert: pki.serverCertPem, ca: pki.caPem, requestCert, rejectUnauthorized: requestCert },
    (req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const url = req.url ?? '/'
        const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate?.()
        const recorded: RecordedRequest = {
          method: req.method ?? 'GET',
          url,
          pathname: url.split('?')[0] ?? url,
          query: parseQuery(url),
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          clientCertSubject: peer?.subject ? String(peer.subject.CN) : null,
          remotePort: req.socket.remotePort,
        }
        requests.push(recorded)
        void Promise.resolve(handler(recorded)).then((reply) => {
          const text =
            reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body)
          res.writeHead(reply.status, { 'content-type': reply.contentType ?? 'application/json; charset=utf-8' })
          res.end(text)
        })
      })
    },
  )
  server.on('secureConnection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

/** A TLS server that completes the handshake and then never says a word. */
export async function startHungTlsServer(pki: TestPki): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server = createTlsServer({ key: pki.serverKeyPem, cert: pki.serverCertPem, ca: pki.caPem }, (s) => {
    sockets.add(s)
    s.on('error', () => undefined)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

/** A port nobody listens on: bound once to learn a free number, then released. */
export async function closedPort(): Promise<number> {
  const server = createNetServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** A sense: slice pointing at 127.0.0.1:<port> with the test PKI; overrides merge on top. */
export function testSenseConfig(pki: TestPki, port: number, overrides: SenseConfigInput = {}): SenseConfig {
  return senseConfigWithDefaults({
    host: '127.0.0.1',
    certs: { dir: pki.dir },
    ...overrides,
    qrs: { port, timeoutMs: 5_000, retries: 0, ...overrides.qrs },
  })
}

export const TASK_ID = 'dec2a02a-1680-44ef-8dc2-e2bfb180af87'
export const APP_ID = 'e7af59a0-c243-480d-9571-08727551a66f'
export const SESSION_ID = '14a81bf5-f81c-4047-b1a1-193b0920de28'
export const RESULT_ID = 'b7c3c0d4-5d8e-4c59-9f51-2a3b0e7f9a10'
export const FILE_REF_ID = '2d8c5b2e-7c1a-4b55-8a0c-1e9f3d6b7a21'

/** The error code a promise rejects with (a CapabilityError), or a failure if it resolves. */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (err) {
    if (err instanceof CapabilityError) return err.code
    throw err
  }
  throw new Error('expected a rejection')
}
