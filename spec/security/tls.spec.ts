import { request as httpsRequest } from 'node:https'
import { rm } from 'node:fs/promises'
import mqtt, { type IClientOptions } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { modules } from '../../src/capabilities/index.js'
import { loadConfig } from '../../src/config/load.js'
import { connect } from '../helpers/client.js'
import {
  createTestPki,
  PASSWORDS,
  securityOverrides,
  startSecureApp,
  TOKENS,
  type SecureApp,
  type TestPki,
} from './harness.js'

function httpsGet(url: string, ca: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      let body = ''
      res.on('data', (d: Buffer) => (body += d.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

async function connackOrError(url: string, opts: IClientOptions): Promise<string | number> {
  try {
    const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 3000, ...opts })
    await c.endAsync()
    return 'connected'
  } catch (err) {
    return (err as { code?: number | string }).code ?? (err as Error).message
  }
}

const tlsFiles = (pki: TestPki) => ({
  certFile: pki.paths.serverCert,
  keyFile: pki.paths.serverKey,
  caFile: pki.paths.ca,
})

describe('TLS listeners (client certificates requested)', () => {
  let pki: TestPki
  let sb: SecureApp

  beforeAll(async () => {
    pki = await createTestPki()
    sb = await startSecureApp({
      overrides: await securityOverrides({
        'broker.mqtts': { enabled: true, port: 0, tls: tlsFiles(pki), clientCertificates: 'request' },
        'broker.wss': { enabled: true, port: 0, tls: tlsFiles(pki), clientCertificates: 'request' },
        'http.tls': { certFile: pki.paths.serverCert, keyFile: pki.paths.serverKey },
      }),
    })
  })
  afterAll(async () => {
    await sb?.stop()
    await rm(pki.dir, { recursive: true, force: true })
  })

  it('serves mqtts to a client that trusts the CA, with a password login', async () => {
    const c = await connect(sb.url('mqtts'), { ca: pki.ca, username: 'etl', password: PASSWORDS.etl })
    expect(await c.request('util/ping')).toMatchObject({ status: 'ok' })
    await c.end()
    expect(sb.logs).toContainEqual(
      expect.objectContaining({ area: 'audit', username: 'etl', transport: 'mqtts', capability: 'util/ping' }),
    )
  })

  it('refuses a client that does not trust the server certificate', async () => {
    expect(await connackOrError(sb.url('mqtts'), { username: 'etl', password: PASSWORDS.etl })).toMatch(
      /SELF_SIGNED|UNABLE_TO_VERIFY|unable to verify/i,
    )
  })

  it('logs in the user a verified client certificate maps to, on mqtts and wss', async () => {
    for (const kind of ['mqtts', 'wss'] as const) {
      const c = await connect(sb.url(kind), { ca: pki.ca, cert: pki.client.cert, key: pki.client.key })
      expect(await c.request('util/ping')).toMatchObject({ status: 'ok' })
      const denied = await c.request('kv/set', {
        namespace: 'tls',
        key: 'k',
        value: 'v',
        replyTo: `sense/reply/cert-${kind}/kv/set`,
      })
      expect(denied).toMatchObject({ status: 'error', error: { code: 'FORBIDDEN' } })
      await c.end()
      expect(sb.logs).toContainEqual(
        expect.objectContaining({
          area: 'audit',
          username: 'cert-user',
          transport: kind,
          capability: 'kv/set',
          outcome: 'FORBIDDEN',
        }),
      )
    }
  })

  it('does not trust a certificate from another CA with the same CN', async () => {
    expect(await connackOrError(sb.url('mqtts'), { ca: pki.ca, cert: pki.rogue.cert, key: pki.rogue.key })).toBe(5)
  })

  it('serves the HTTP shim over HTTPS, tokens still required', async () => {
    expect(await httpsGet(`${sb.url('http')}/v4/butlerping`, pki.ca, TOKENS.etl)).toMatchObject({ status: 200 })
    expect(await httpsGet(`${sb.url('http')}/v4/butlerping`, pki.ca)).toMatchObject({ status: 401 })
  })
})

describe('TLS listener requiring client certificates', () => {
  it('ends the handshake of a client without a certificate and admits one with', async () => {
    const pki = await createTestPki()
    const sb = await startSecureApp({
      overrides: await securityOverrides({
        'broker.mqtts': { enabled: true, port: 0, tls: tlsFiles(pki), clientCertificates: 'require' },
      }),
    })
    try {
      expect(await connackOrError(sb.url('mqtts'), { ca: pki.ca, username: 'etl', password: PASSWORDS.etl })).not.toBe(
        'connected',
      )
      expect(await connackOrError(sb.url('mqtts'), { ca: pki.ca, cert: pki.client.cert, key: pki.client.key })).toBe(
        'connected',
      )
    } finally {
      await sb.stop()
      await rm(pki.dir, { recursive: true, force: true })
    }
  })

  it('names the missing setting when TLS material is absent or unreadable', async () => {
    expect(() => loadConfig(modules, { overrides: { 'broker.mqtts.enabled': true } })).toThrow(
      /broker\.mqtts\.tls: is required/,
    )
    await expect(
      startSecureApp({
        overrides: {
          'broker.mqtts': {
            enabled: true,
            port: 0,
            tls: { certFile: '/nonexistent/cert.pem', keyFile: '/nonexistent/key.pem' },
          },
        },
      }),
    ).rejects.toThrow(/certificate for broker\.mqtts\.tls \(\/nonexistent\/cert\.pem\): ENOENT/)
    await expect(
      startSecureApp({
        overrides: {
          'broker.wss': { enabled: true, clientCertificates: 'require', tls: { certFile: 'c', keyFile: 'k' } },
        },
      }),
    ).rejects.toThrow(/broker\.wss\.tls\.caFile is required/)
  })
})
