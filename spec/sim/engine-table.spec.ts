import { describe, expect, it } from 'vitest'
import { ENGINE_METHODS } from '../../src/sim/engine/methods/index.js'
import { parseEnginePath } from '../../src/sim/engine/paths.js'
import { isSchemaStruct, schemaMethod } from '../../src/sim/engine/schema.js'
import { isQlikUserHeader } from '../../src/sim/engine/server.js'

describe('Engine face method table', () => {
  it('uses only enigma schema struct names and schema methods (QLIK-PROTOCOLS §0.4)', () => {
    for (const [struct, methods] of Object.entries(ENGINE_METHODS)) {
      expect(isSchemaStruct(struct), struct).toBe(true)
      for (const method of Object.keys(methods ?? {}))
        expect(schemaMethod(struct, method), `${struct}.${method}`).toBeDefined()
    }
  })

  it('covers every method §4.4 requires', () => {
    const required: Record<string, string[]> = {
      Global: ['EngineVersion', 'GetDocList', 'OpenDoc', 'GetActiveDoc', 'GetProgress'],
      Doc: [
        'DoReload',
        'DoReloadEx',
        'DoSave',
        'GetScript',
        'GetAppProperties',
        'GetAppLayout',
        'GetAllInfos',
        'GetLineage',
        'CreateSessionObject',
        'DestroySessionObject',
        'GetObject',
        'GetDimension',
        'GetMeasure',
        'GetBookmark',
        'GetVariableById',
        'GetConnections',
        'GetConnection',
      ],
      GenericObject: ['GetLayout', 'GetProperties', 'GetFullPropertyTree'],
      GenericDimension: ['GetLayout', 'GetProperties'],
      GenericMeasure: ['GetLayout', 'GetProperties'],
      GenericVariable: ['GetLayout', 'GetProperties'],
      GenericBookmark: ['GetLayout', 'GetProperties'],
    }
    for (const [struct, methods] of Object.entries(required)) {
      expect(Object.keys(ENGINE_METHODS[struct as keyof typeof ENGINE_METHODS] ?? {})).toEqual(
        expect.arrayContaining(methods),
      )
    }
  })
})

describe('Engine face upgrade paths (QLIK-PROTOCOLS §2.1)', () => {
  it.each([
    ['/', {}],
    ['', {}],
    ['/app/engineData', {}],
    ['/app/e7af59a0-c243-480d-9571-08727551a66f', { appId: 'e7af59a0-c243-480d-9571-08727551a66f' }],
    ['/app/a%20b', { appId: 'a b' }],
    ['/app/abc/ttl/60', { appId: 'abc' }],
    ['/hdr/app/abc', { prefix: 'hdr', appId: 'abc' }],
    ['/hdr/app/engineData', { prefix: 'hdr' }],
    ['/hdr', { prefix: 'hdr' }],
  ])('%s → %j', (url, expected) => {
    expect(parseEnginePath(url)).toEqual(expected)
  })

  it.each(['/qrs/about', '/app', '/a/b/app/x', '/app/%E0%A4%A'])('refuses %s', (url) => {
    expect(parseEnginePath(url)).toBeUndefined()
  })

  it.each([
    ['UserDirectory=Internal;UserId=sa_repository', true],
    ['UserDirectory=LAB; UserId=goran', true],
    ['UserId=goran', false],
    ['UserDirectory=Internal; UserId=', false],
    [undefined, false],
  ])('X-Qlik-User %s → %s', (value, ok) => {
    expect(isQlikUserHeader(value)).toBe(ok)
  })
})
