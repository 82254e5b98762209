import { createServer as createNetServer, type Server as NetServer } from 'node:net'
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls'
import { WebSocketServer } from 'ws'
import { createServer as createHttpsServer } from 'node:https'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CapabilityError } from '../../src/core/errors.js'
import { createEngineClient, type EngineClientOptions } from '../../src/sense/engine/index.js'
import { makeTestCerts, type TestCerts } from '../sim/engine-certs.js'
import { FAILING_APP_ID, SALES_APP_ID } from '../sim/engine-fixture.js'
import { startTestFace, type TestFace } from '../sim/engine-harness.js'

let t: TestFace
let certs: TestCerts
beforeAll(async () => {
  certs = makeTestCerts()
  t = await startTestFace(certs)
})
afterAll(async () => {
  await t.close()
})

const options = (overrides: Partial<EngineClientOptions> = {}): EngineClientOptions => ({
  host: 'localhost',
  port: t.face.port,
  certs: { cert: certs.client.cert, key: certs.client.key, ca: certs.ca },
  user: { directory: 'Internal', id: 'sa_repository' },
  timeoutMs: 5_000,
  ...overrides,
})

async function failure(promise: Promise<unknown>): Promise<CapabilityError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(CapabilityError)
  return err as CapabilityError
}

describe('Engine client against the simulator Engine face', () => {
  it('lists apps over the root path', async () => {
    const apps = await createEngineClient(options()).listApps()
    expect(apps.map((a) => [a.id, a.name])).toEqual([
      [SALES_APP_ID, 'Sales Dashboard'],
      [FAILING_APP_ID, 'Test failing reloads 2'],
    ])
    expect(t.backend.calls.at(-1)).toMatchObject({
      method: 'GetDocList',
      path: '/',
      user: 'UserDirectory=Internal; UserId=sa_repository',
    })
  })

  it('reloads with progress callbacks, then saves only on success (§2.5.1)', async () => {
    const seen: string[] = []
    const outcome = await createEngineClient(options()).reloadApp(SALES_APP_ID, {
      mode: 0,
      partial: true,
      pollMs: 30,
      onProgress: (p) => seen.push(p.log),
    })
    expect(outcome).toMatchObject({
      appId: SALES_APP_ID,
      success: true,
      saved: true,
      progress: { finished: true, errors: [] },
    })
    expect(outcome.progress.log).toBe('Sales << sales_2021\nLines fetched: 120,000\n')
    expect(seen.length).toBeGreaterThan(1)
    // Each operation runs on its own engine session: /app/<id>/identity/sensebus-reload-<uuid>.
    const reloadPaths = t.backend.calls.filter((c) =>
      c.path.startsWith(`/app/${SALES_APP_ID}/identity/sensebus-reload-`),
    )
    const calls = reloadPaths.filter((c) => c.path === reloadPaths[0]?.path)
    const methods = calls.map((c) => c.method)
    expect([methods[0], methods[1], methods.at(-1)]).toEqual(['OpenDoc', 'DoReload', 'DoSave'])
    expect(new Set(methods.slice(2, -1))).toEqual(new Set(['GetProgress']))
    expect(calls[0]?.params).toEqual([SALES_APP_ID, '', '', '', false])
    expect(calls[1]).toMatchObject({ params: [0, true], appId: SALES_APP_ID, handle: 1 })
    expect(t.backend.reloads.at(-1)?.opts).toMatchObject({ mode: 0, partial: true })

    const savedBefore = t.backend.saved.length
    const failed = await createEngineClient(options()).reloadApp(FAILING_APP_ID, { pollMs: 30 })
    expect(failed).toMatchObject({ success: false, saved: false })
    expect(failed.progress.errors).toEqual([{ message: 'FAIL_SIM;', line: '3', code: 1 }])
    expect(t.backend.saved.length).toBe(savedBefore)
  })

  it('opens and saves an app', async () => {
    const client = createEngineClient(options())
    const open = await client.openApp(SALES_APP_ID, { noData: true })
    expect([open.doc.id, open.doc.handle]).toEqual([SALES_APP_ID, 1])
    await open.close()
    await client.saveApp(SALES_APP_ID)
    expect(t.backend.saved.at(-1)).toBe(SALES_APP_ID)
  })

  it('dumps every key of §2.5.2', async () => {
    const dump = await createEngineClient(options()).dumpApp(SALES_APP_ID)
    expect(Object.keys(dump).sort()).toEqual([
      'appId',
      'appprops',
      'bookmarks',
      'dataconnections',
      'dimensions',
      'embeddedmedia',
      'fields',
      'lineage',
      'loadScript',
      'masterobjects',
      'measures',
      'properties',
      'sheets',
      'snapshots',
      'stories',
      'variables',
    ])
    expect(dump.sheets).toHaveLength(2)
    expect(dump.bookmarks[0]).toMatchObject({
      qInfo: { qId: 'a1b2c3' },
      qData: { qBookMark: { qStateData: [{ qStateName: '$' }] } },
    })
    expect(dump.snapshots).toEqual([expect.objectContaining({ qInfo: { qId: 'snap01', qType: 'snapshot' } })])
    expect(dump.embeddedmedia).toEqual([{ qUrlDef: '/media/Logo.png', qUrl: '/media/Logo.png' }])
    expect(dump.variables[1]).toMatchObject({ qName: 'ThousandSep', qIsScriptCreated: true, qIsReserved: true })
    expect(dump.dataconnections).toEqual([expect.objectContaining({ qName: 'DataFiles' })])
    expect(dump.fields).toHaveLength(2)
    const dumpCalls = t.backend.calls.filter((c) => c.path.startsWith('/app/engineData/identity/sensebus-dump-'))
    expect(dumpCalls.find((c) => c.method === 'OpenDoc')?.params).toEqual([SALES_APP_ID, '', '', '', true])
  })
})

describe('Engine client under engine faults (QLIK-PROTOCOLS §4.7)', () => {
  it('dumps the same data when every result is delta-encoded and delayed', async () => {
    const plain = await createEngineClient(options()).dumpApp(SALES_APP_ID)
    t.backend.faultFlags = { deltaResponses: true, latencyMs: 20 }
    try {
      const started = Date.now()
      expect(await createEngineClient(options()).dumpApp(SALES_APP_ID)).toEqual(plain)
      expect(Date.now() - started).toBeGreaterThanOrEqual(40)
    } finally {
      t.backend.faultFlags = {}
    }
  })
})

describe('Engine client error mapping', () => {
  it('maps 1003 to NOT_FOUND and keeps the engine code', async () => {
    const err = await failure(createEngineClient(options()).dumpApp('no-such-app'))
    expect(err.code).toBe('NOT_FOUND')
    expect(err.details).toMatchObject({ engineCode: 1003, appId: 'no-such-app' })
  })

  it('maps a closed port to SENSE_UNREACHABLE', async () => {
    const port = await freePort()
    const err = await failure(createEngineClient(options({ host: '127.0.0.1', port })).listApps())
    expect(err.code).toBe('SENSE_UNREACHABLE')
  })

  it('maps an upgrade refused for a missing client certificate (403) to SENSE_AUTH', async () => {
    const noCert = options({ certs: { cert: '', key: '', ca: certs.ca } })
    const err = await failure(createEngineClient(noCert).listApps())
    expect(err.code).toBe('SENSE_AUTH')
    expect(err.details).toMatchObject({ status: 403 })
  })

  it('maps an upgrade refused for an unusable X-Qlik-User (401) to SENSE_AUTH', async () => {
    const err = await failure(createEngineClient(options({ user: { directory: 'Internal', id: '' } })).listApps())
    expect(err.code).toBe('SENSE_AUTH')
    expect(err.details).toMatchObject({ status: 401 })
  })

  it('maps a server certificate the client does not trust to SENSE_AUTH', async () => {
    const stranger = makeTestCerts()
    const err = await failure(
      createEngineClient(
        options({ certs: { cert: certs.client.cert, key: certs.client.key, ca: stranger.ca } }),
      ).listApps(),
    )
    expect(err.code).toBe('SENSE_AUTH')
  })

  it('maps a server that accepts but never answers to TIMEOUT', async () => {
    const silent = await silentTlsServer(certs)
    try {
      const err = await failure(createEngineClient(options({ port: silent.port, timeoutMs: 300 })).listApps())
      expect(err.code).toBe('TIMEOUT')
    } finally {
      await silent.close()
    }
  })

  it('maps an engine that upgrades but never answers a call to TIMEOUT', async () => {
    const mute = await muteEngine(certs)
    try {
      const err = await failure(createEngineClient(options({ port: mute.port, timeoutMs: 300 })).listApps())
      expect(err.code).toBe('TIMEOUT')
      expect(err.details).toMatchObject({ operation: 'GetDocList' })
    } finally {
      await mute.close()
    }
  })
})

async function freePort(): Promise<number> {
  const server: NetServer = createNetServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const address = server.address()
  await new Promise<void>((r) => server.close(() => r()))
  return typeof address === 'object' && address !== null ? address.port : 0
}

/** Completes TLS, then never says a word: the upgrade request hangs. */
async function silentTlsServer(c: TestCerts): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<import('node:tls').TLSSocket>()
  const server: TlsServer = createTlsServer({ key: c.server.key, cert: c.server.cert }, (socket) => {
    sockets.add(socket)
    socket.on('error', () => undefined)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const address = server.address()
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}

/** Accepts the WebSocket upgrade, then ignores every request. */
async function muteEngine(c: TestCerts): Promise<{ port: number; close(): Promise<void> }> {
  const server = createHttpsServer({ key: c.server.key, cert: c.server.cert })
  const wss = new WebSocketServer({ server })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const address = server.address()
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    close: async () => {
      for (const ws of wss.clients) ws.terminate()
      wss.close()
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}
