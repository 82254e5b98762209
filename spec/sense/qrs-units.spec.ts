import { describe, expect, it } from 'vitest'
import { CapabilityError } from '../../src/core/errors.js'
import { isTlsFailureCode, toSenseError } from '../../src/sense/errors.js'
import { appFilter, isGuid, quoteString, taskFilter } from '../../src/sense/qrs/filter.js'
import { newXrfkey, XRFKEY_PATTERN } from '../../src/sense/qrs/xrfkey.js'

/** Pure pieces of the QRS client: error table, filter builders, xrfkey. */

const ctx = { method: 'GET', path: '/qrs/about' }

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`boom ${code}`), { code })
}

describe('toSenseError (src/sense/errors.ts)', () => {
  it.each([
    ['ECONNREFUSED', 'SENSE_UNREACHABLE'],
    ['ENOTFOUND', 'SENSE_UNREACHABLE'],
    ['ECONNRESET', 'SENSE_UNREACHABLE'],
    ['EHOSTUNREACH', 'SENSE_UNREACHABLE'],
    ['EAI_AGAIN', 'SENSE_UNREACHABLE'],
    ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'SENSE_AUTH'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'SENSE_AUTH'],
    ['ERR_OSSL_BAD_DECRYPT', 'SENSE_AUTH'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'SENSE_AUTH'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'SENSE_AUTH'],
    ['CERT_HAS_EXPIRED', 'SENSE_AUTH'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SENSE_AUTH'],
    ['ERR_SOMETHING_ELSE', 'SENSE_ERROR'],
  ])('%s → %s', (code, expected) => {
    const mapped = toSenseError(errno(code), ctx)
    expect(mapped.code).toBe(expected)
    expect(mapped.details).toEqual({ ...ctx, errno: code })
  })

  it('passes CapabilityErrors through and maps anything else to SENSE_ERROR', () => {
    const original = new CapabilityError('VALIDATION_FAILED', 'x')
    expect(toSenseError(original, ctx)).toBe(original)
    expect(toSenseError('weird', ctx).code).toBe('SENSE_ERROR')
  })

  it('keeps only a sanitised cause (no request options or agent with key material)', () => {
    const original = Object.assign(errno('ECONNREFUSED'), { options: { agent: { key: 'PRIVATE' } } })
    const mapped = toSenseError(original, ctx)
    const cause = mapped.cause as Record<string, unknown>
    expect(cause).not.toBe(original)
    expect(cause.options).toBeUndefined()
    expect(cause.code).toBe('ECONNREFUSED')
  })

  it('isTlsFailureCode', () => {
    expect(isTlsFailureCode(undefined)).toBe(false)
    expect(isTlsFailureCode('ECONNRESET')).toBe(false)
    expect(isTlsFailureCode('SELF_SIGNED_CERT_IN_CHAIN')).toBe(true)
  })
})

describe('filters (QLIK-PROTOCOLS §1.5.1)', () => {
  it('quotes strings and doubles embedded quotes', () => {
    expect(quoteString("it's")).toBe("'it''s'")
    expect(quoteString("''")).toBe("''''''")
    expect(quoteString('plain')).toBe("'plain'")
  })

  it("builds Butler's task filters", () => {
    const id = '3FA85F64-5717-4562-B3FC-2C963F66AFA6'
    expect(taskFilter({ id })).toBe(`id eq ${id}`)
    expect(taskFilter({ id, customProperty: { name: 'cp', value: 'v' } })).toBe(
      `(id eq ${id}) and (customProperties.definition.name eq 'cp') and (customProperties.value eq 'v')`,
    )
    expect(taskFilter({})).toBeUndefined()
    expect(() => taskFilter({ id: 'nope' })).toThrow(CapabilityError)
    expect(appFilter({ name: "Sales 'EU'" })).toBe("name eq 'Sales ''EU'''")
  })

  it('isGuid', () => {
    expect(isGuid('00000000-0000-0000-0000-000000000000')).toBe(true)
    expect(isGuid('00000000-0000-0000-0000-00000000000')).toBe(false)
    expect(isGuid("x' or '1")).toBe(false)
  })
})

describe('newXrfkey (QLIK-PROTOCOLS §1.3)', () => {
  it('is 16 characters of [A-Za-z0-9], different every time', () => {
    const keys = Array.from({ length: 500 }, newXrfkey)
    for (const key of keys) expect(key).toMatch(XRFKEY_PATTERN)
    expect(new Set(keys).size).toBe(500)
    // All three character classes show up across 500 keys.
    const all = keys.join('')
    expect(all).toMatch(/[A-Z]/)
    expect(all).toMatch(/[a-z]/)
    expect(all).toMatch(/[0-9]/)
  })
})
