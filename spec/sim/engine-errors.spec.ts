import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SALES_APP_ID } from './engine-fixture.js'
import { enigmaSession, rawSocket, startTestFace, type TestFace } from './engine-harness.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- enigma's APIs are generated from the schema at run time */
type Qix = any

let t: TestFace
beforeAll(async () => {
  t = await startTestFace()
})
afterAll(async () => {
  await t.close()
})

describe('Engine face: errors (QLIK-PROTOCOLS §2.3.3)', () => {
  it('answers OpenDoc of an unknown app with 1003 through enigma', async () => {
    const session = enigmaSession(t, '/app/engineData')
    const global: Qix = await session.open()
    await expect(global.openDoc('no-such-app', '', '', '', true)).rejects.toMatchObject({ code: 1003 })
    await session.close()
  })

  it('answers a second OpenDoc on the same socket with 1002, and GetActiveDoc without a doc with 1007', async () => {
    const session = enigmaSession(t, `/app/${SALES_APP_ID}`)
    const global: Qix = await session.open()
    await expect(global.getActiveDoc()).rejects.toMatchObject({ code: 1007 })
    await global.openDoc(SALES_APP_ID, '', '', '', false)
    await expect(global.openDoc(SALES_APP_ID, '', '', '', false)).rejects.toMatchObject({ code: 1002 })
    await session.close()
  })

  it('answers GetConnection with an unknown id with 2001', async () => {
    const session = enigmaSession(t, '/app/engineData')
    const global: Qix = await session.open()
    const app = await global.openDoc(SALES_APP_ID, '', '', '', true)
    await expect(app.getConnection('nope')).rejects.toMatchObject({ code: 2001 })
    await session.close()
  })

  it('sends OnConnected first, then JSON-RPC errors for bad frames', async () => {
    const ws = await rawSocket(t)
    await expect
      .poll(() => ws.frames[0])
      .toEqual({ jsonrpc: '2.0', method: 'OnConnected', params: { qSessionState: 'SESSION_CREATED' } })

    ws.send({ jsonrpc: '2.0', id: 1, handle: -1, method: 'NoSuchMethod', params: [] })
    expect((await ws.reply(1))['error']).toMatchObject({ code: -32601 })

    // Doc methods do not exist on Global: the method table is per struct.
    ws.send({ jsonrpc: '2.0', id: 2, handle: -1, method: 'GetScript', params: [] })
    expect((await ws.reply(2))['error']).toMatchObject({ code: -32601 })

    ws.send('{not json')
    expect((await ws.reply(null))['error']).toMatchObject({ code: -32700 })

    ws.send({ jsonrpc: '2.0', id: 3, params: [] })
    expect((await ws.reply(3))['error']).toMatchObject({ code: -32600 })

    ws.send({ jsonrpc: '2.0', id: 4, handle: -1, method: 'OpenDoc', params: [42] })
    expect((await ws.reply(4))['error']).toMatchObject({ code: -32602 })

    ws.send({ jsonrpc: '2.0', id: 5, handle: -1, method: 'OpenDoc', params: [] })
    expect((await ws.reply(5))['error']).toMatchObject({ code: -32602 })

    ws.send({ jsonrpc: '2.0', id: 6, handle: 99, method: 'GetLayout', params: [] })
    expect((await ws.reply(6))['error']).toMatchObject({ code: -32602 })
    ws.close()
  })

  it('accepts named params and answers by id in completion order, ignoring delta', async () => {
    const ws = await rawSocket(t, `/app/${SALES_APP_ID}`)
    ws.send({ jsonrpc: '2.0', id: 1, delta: true, handle: -1, method: 'OpenDoc', params: { qDocName: SALES_APP_ID } })
    expect(await ws.reply(1)).toEqual({
      jsonrpc: '2.0',
      id: 1,
      change: [1],
      result: { qReturn: { qType: 'Doc', qHandle: 1, qGenericId: SALES_APP_ID } },
    })
    ws.send({ jsonrpc: '2.0', id: 2, delta: true, handle: 1, method: 'DoReload', params: [0, false] })
    ws.send({ jsonrpc: '2.0', id: 3, delta: true, handle: 1, method: 'GetScript', params: [] })
    await ws.reply(2)
    const ids = ws.frames.map((f) => f['id']).filter((id) => id === 2 || id === 3)
    expect(ids).toEqual([3, 2])
    expect((await ws.reply(3))['result']).toEqual({ qScript: expect.stringContaining('Sales:') })
    ws.close()
  })

  it('refuses a second DoReload of the same app while one runs with 11000', async () => {
    const first = await rawSocket(t, `/app/${SALES_APP_ID}`)
    const second = await rawSocket(t, `/app/${SALES_APP_ID}`)
    for (const ws of [first, second])
      ws.send({ jsonrpc: '2.0', id: 1, handle: -1, method: 'OpenDoc', params: [SALES_APP_ID] })
    await first.reply(1)
    await second.reply(1)
    first.send({ jsonrpc: '2.0', id: 2, handle: 1, method: 'DoReload', params: [] })
    await new Promise((r) => setTimeout(r, 20))
    second.send({ jsonrpc: '2.0', id: 2, handle: 1, method: 'DoReload', params: [] })
    expect((await second.reply(2))['error']).toMatchObject({ code: 11000 })
    expect((await first.reply(2))['result']).toEqual({ qReturn: true })
    first.close()
    second.close()
  })

  it('records every call for the control plane', async () => {
    const ws = await rawSocket(t, '/')
    ws.send({ jsonrpc: '2.0', id: 1, handle: -1, method: 'EngineVersion', params: [] })
    await ws.reply(1)
    ws.close()
    expect(t.backend.calls.at(-1)).toMatchObject({
      face: 'engine',
      method: 'EngineVersion',
      handle: -1,
      id: 1,
      path: '/',
      user: expect.stringContaining('UserId=sa_repository'),
    })
  })
})

describe('Engine face: upgrade refusals (QLIK-PROTOCOLS §2.2, §4.4)', () => {
  it('refuses a client without a certificate when one is required', async () => {
    const session = enigmaSession(t, '/app/engineData', { withCert: false })
    await expect(session.open()).rejects.toMatchObject({ message: expect.stringContaining('403') })
  })

  it('refuses an upgrade without X-Qlik-User', async () => {
    const session = enigmaSession(t, '/app/engineData', { user: null })
    await expect(session.open()).rejects.toMatchObject({ message: expect.stringContaining('401') })
  })

  it('refuses an upgrade on a path the engine does not serve', async () => {
    await expect(rawSocket(t, '/qrs/about')).rejects.toThrow(/404/)
  })

  it('accepts the virtual-proxy prefix form and a client without certificate when none is required', async () => {
    const open = await startTestFace(t.certs, { requireClientCert: false })
    try {
      const session = enigmaSession(open, `/hdr/app/${SALES_APP_ID}`, { withCert: false })
      const global: Qix = await session.open()
      expect((await global.openDoc(SALES_APP_ID)).id).toBe(SALES_APP_ID)
      await session.close()
    } finally {
      await open.close()
    }
  })
})
