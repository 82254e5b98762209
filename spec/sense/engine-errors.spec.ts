import { describe, expect, it } from 'vitest'
import { CapabilityError } from '../../src/core/errors.js'
import { EngineTimeoutError, toEngineError } from '../../src/sense/engine/errors.js'
import { engineUrl, qlikUserHeader, type EngineClientOptions } from '../../src/sense/engine/options.js'

const errno = (code: string, message = code): Error => Object.assign(new Error(message), { code })
const engine = (code: number, parameter = 'x'): Error => Object.assign(new Error('engine says no'), { code, parameter })

describe('toEngineError: the one mapping table', () => {
  const cases: [string, unknown, Error | undefined, string, Record<string, unknown>][] = [
    ['app not found', engine(1003, 'abc'), undefined, 'NOT_FOUND', { engineCode: 1003, parameter: 'abc' }],
    ['method not found', engine(-32601), undefined, 'SENSE_ERROR', { engineCode: -32601 }],
    ['app already open', engine(1002), undefined, 'SENSE_ERROR', { engineCode: 1002 }],
    ['enigma object not found', engine(-2), undefined, 'SENSE_ERROR', { engineCode: -2 }],
    ['socket closed mid-call', engine(-1), undefined, 'SENSE_UNREACHABLE', {}],
    ['connection refused', { type: 'error' }, errno('ECONNREFUSED'), 'SENSE_UNREACHABLE', { errno: 'ECONNREFUSED' }],
    ['DNS failure', errno('ENOTFOUND'), undefined, 'SENSE_UNREACHABLE', { errno: 'ENOTFOUND' }],
    ['upgrade 401', { type: 'error' }, new Error('Unexpected server response: 401'), 'SENSE_AUTH', { status: 401 }],
    ['upgrade 403', { type: 'error' }, new Error('Unexpected server response: 403'), 'SENSE_AUTH', { status: 403 }],
    ['upgrade 404', { type: 'error' }, new Error('Unexpected server response: 404'), 'NOT_FOUND', { status: 404 }],
    ['upgrade 500', { type: 'error' }, new Error('Unexpected server response: 500'), 'SENSE_ERROR', { status: 500 }],
    [
      'untrusted server',
      { type: 'error' },
      errno('SELF_SIGNED_CERT_IN_CHAIN'),
      'SENSE_AUTH',
      { errno: 'SELF_SIGNED_CERT_IN_CHAIN' },
    ],
    ['TLS alert', { type: 'error' }, errno('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'), 'SENSE_AUTH', {}],
    ['handshake timeout', { type: 'error' }, new Error('Opening handshake has timed out'), 'TIMEOUT', {}],
    ['call timeout', new EngineTimeoutError('GetScript', 10), undefined, 'TIMEOUT', { timeoutMs: 10 }],
  ]
  it.each(cases)('%s', (_name, err, socketError, code, details) => {
    const mapped = toEngineError(err, {
      operation: 'op',
      appId: 'abc',
      ...(socketError === undefined ? {} : { socketError }),
    })
    expect(mapped).toBeInstanceOf(CapabilityError)
    expect(mapped.code).toBe(code)
    expect(mapped.details).toMatchObject({ operation: 'op', appId: 'abc', ...details })
  })

  it('passes a CapabilityError through untouched', () => {
    const original = new CapabilityError('TIMEOUT', 'already mapped')
    expect(toEngineError(original, { operation: 'op' })).toBe(original)
  })
})

describe('engine URLs and headers (QLIK-PROTOCOLS §2.1-2.2)', () => {
  const opts: EngineClientOptions = {
    host: 'sense.example',
    certs: { cert: '', key: '', ca: '' },
    user: { directory: 'Internal', id: 'sa_repository' },
  }
  it.each([
    [{ appId: 'a b/c' }, 'wss://sense.example:4747/app/a%20b%2Fc'],
    ['engineData', 'wss://sense.example:4747/app/engineData'],
    ['root', 'wss://sense.example:4747'],
    [{ appId: 'a', identity: 'sensebus reload/1' }, 'wss://sense.example:4747/app/a/identity/sensebus%20reload%2F1'],
    [{ engineData: true, identity: 'd-1' }, 'wss://sense.example:4747/app/engineData/identity/d-1'],
  ] as const)('%j → %s', (route, url) => {
    expect(engineUrl(opts, route)).toBe(url)
  })
  it('puts a virtual-proxy prefix in front of the route', () => {
    expect(engineUrl({ ...opts, port: 443, prefix: '/hdr/' }, { appId: 'x' })).toBe('wss://sense.example:443/hdr/app/x')
  })
  it('formats X-Qlik-User as Qlik documents', () => {
    expect(qlikUserHeader(opts.user)).toBe('UserDirectory=Internal; UserId=sa_repository')
  })
})
