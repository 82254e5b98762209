import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Ajv } from 'ajv'
import { beforeAll, describe, expect, it } from 'vitest'
import { CapabilityError } from '../../src/core/errors.js'
import { loadSenseCertificates, loadSenseRootCa, senseCertificatePaths } from '../../src/sense/certs.js'
import { isSenseEnabled, senseConfigSchema, senseConfigWithDefaults } from '../../src/sense/config.js'
import { makeTestPki, type TestPki } from './qrs-helpers.js'

/** Validates a sense: slice the way the root config schema does: composed under its key, strict mode. */
function validator(): ((data: unknown) => boolean) & { errors?: unknown } {
  const ajv = new Ajv({ useDefaults: true, allErrors: true, strict: true })
  const compiled = ajv.compile({
    type: 'object',
    additionalProperties: false,
    properties: { sense: senseConfigSchema },
  })
  const validate = (data: unknown): boolean => {
    const ok = compiled({ sense: data })
    validate.errors = compiled.errors
    return ok
  }
  validate.errors = undefined as unknown
  return validate
}

describe('senseConfigSchema', () => {
  it('compiles in ajv strict mode and fills every default', () => {
    const validate = validator()
    const data: Record<string, unknown> = { host: 'sense.lab' }
    expect(validate(data)).toBe(true)
    expect(data).toEqual(senseConfigWithDefaults({ host: 'sense.lab' }))
    expect(data).toEqual({
      host: 'sense.lab',
      qrs: { port: 4242, timeoutMs: 30000, retries: 2 },
      engine: { port: 4747, timeoutMs: 30000, schemaVersion: '12.612.0' },
      certs: { dir: './certs' },
      user: { directory: 'INTERNAL', id: 'sa_repository' },
      rejectUnauthorized: true,
      healthIntervalMs: 30000,
    })
  })

  it('accepts the agreed full shape, explicit cert files and the virtual proxy', () => {
    const validate = validator()
    const data = {
      host: '127.0.0.1',
      qrs: { port: 4242, timeoutMs: 30000, retries: 2 },
      engine: { port: 4747, timeoutMs: 30000, schemaVersion: '12.612.0' },
      certs: { clientCert: 'a.pem', clientKey: 'b.pem', rootCa: 'c.pem', passphrase: 'x' },
      user: { directory: 'INTERNAL', id: 'sa_repository' },
      rejectUnauthorized: false,
      virtualProxy: { prefix: 'hdr', headerName: 'X-Sense-User', userHeaderValue: 'INTERNAL\\sa_repository' },
    }
    expect(validate(data), JSON.stringify(validate.errors)).toBe(true)
    expect(data.virtualProxy).toMatchObject({ port: 443 })
  })

  it('composes under a root schema key, filling defaults when sense: is absent', () => {
    const root = { type: 'object', additionalProperties: false, properties: { sense: senseConfigSchema } }
    const validate = new Ajv({ useDefaults: true, strict: true }).compile(root)
    const data: Record<string, unknown> = {}
    expect(validate(data)).toBe(true)
    expect(data.sense).toEqual(senseConfigWithDefaults())
  })

  it('without host, Sense is disabled but the slice is still valid', () => {
    const validate = validator()
    const data = {}
    expect(validate(data)).toBe(true)
    expect(isSenseEnabled(senseConfigWithDefaults())).toBe(false)
    expect(isSenseEnabled(senseConfigWithDefaults({ host: 'x' }))).toBe(true)
  })

  it.each([
    [{ host: 'h', extra: 1 }],
    [{ host: 'h', qrs: { port: 70000 } }],
    [{ host: 'h', qrs: { tiemoutMs: 5 } }],
    [{ host: 'h', virtualProxy: { prefix: 'hdr' } }],
    [{ host: 'h', virtualProxy: { prefix: 'a/b', headerName: 'X' } }],
    [{ host: '' }],
  ])('rejects %j', (data) => {
    expect(validator()(data)).toBe(false)
  })
})

describe('loadSenseCertificates', () => {
  let pki: TestPki
  beforeAll(() => {
    pki = makeTestPki()
  })

  it('reads client.pem, client_key.pem and root.pem from the QMC export folder', () => {
    const certs = loadSenseCertificates({ dir: pki.dir, passphrase: 'pw' })
    expect(certs.cert.toString()).toBe(pki.clientCertPem)
    expect(certs.key.toString()).toBe(pki.clientKeyPem)
    expect(certs.ca.toString()).toBe(pki.caPem)
    expect(certs.passphrase).toBe('pw')
  })

  it('resolves a relative dir against baseDir, and explicit files win over dir', () => {
    const other = mkdtempSync(join(tmpdir(), 'sensebus-certs-'))
    writeFileSync(join(other, 'my-ca.pem'), pki.caPem)
    const paths = senseCertificatePaths({ dir: 'certs', rootCa: join(other, 'my-ca.pem') }, '/etc/sensebus')
    expect(paths).toEqual({
      clientCert: '/etc/sensebus/certs/client.pem',
      clientKey: '/etc/sensebus/certs/client_key.pem',
      rootCa: join(other, 'my-ca.pem'),
    })
    const certs = loadSenseCertificates({ dir: pki.dir, rootCa: 'my-ca.pem' }, other)
    expect(certs.ca.toString()).toBe(pki.caPem)
  })

  it('names the missing file and its role, and leaks no PEM content', () => {
    const empty = mkdtempSync(join(tmpdir(), 'sensebus-nocerts-'))
    writeFileSync(join(empty, 'client.pem'), pki.clientCertPem)
    let caught: unknown
    try {
      loadSenseCertificates({ dir: empty })
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(CapabilityError)
    const err = caught as CapabilityError
    expect(err.code).toBe('SENSE_AUTH')
    expect(err.message).toContain('client key')
    expect(err.message).toContain(join(empty, 'client_key.pem'))
    expect(err.details).toEqual({ role: 'clientKey', path: join(empty, 'client_key.pem'), reason: 'missing' })
    expect(JSON.stringify(err.toJSON())).not.toContain('BEGIN')
  })

  it('refuses a file that is not PEM', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sensebus-badcerts-'))
    writeFileSync(join(dir, 'client.pem'), 'not a certificate')
    expect(() => loadSenseCertificates({ dir })).toThrow(/client certificate file is not PEM/)
  })

  it('the root CA alone is optional for the virtual proxy, unless configured explicitly', () => {
    const empty = mkdtempSync(join(tmpdir(), 'sensebus-noca-'))
    expect(loadSenseRootCa({ dir: empty })).toBeUndefined()
    expect(loadSenseRootCa({ dir: pki.dir })?.toString()).toBe(pki.caPem)
    expect(() => loadSenseRootCa({ dir: empty, rootCa: 'nope.pem' }, empty)).toThrow(/root CA certificate file missing/)
  })
})
