import enigma from 'enigma.js'
import { createRequire } from 'node:module'
import WebSocket from 'ws'
import { silentLogger } from '../../src/log.js'
import { startEngineFace, type EngineFace } from '../../src/sim/engine/server.js'
import { makeTestCerts, type TestCerts } from './engine-certs.js'
import { MemoryEngineBackend } from './engine-fixture.js'

export const QLIK_USER = 'UserDirectory=Internal; UserId=sa_repository'
export const schema = createRequire(import.meta.url)('enigma.js/schemas/12.612.0.json') as object

export interface TestFace {
  face: EngineFace
  backend: MemoryEngineBackend
  certs: TestCerts
  url(path?: string): string
  close(): Promise<void>
}

export async function startTestFace(
  certs: TestCerts = makeTestCerts(),
  opts: { requireClientCert?: boolean } = {},
): Promise<TestFace> {
  const backend = new MemoryEngineBackend()
  const face = await startEngineFace({
    backend,
    host: '127.0.0.1',
    port: 0,
    tls: { key: certs.server.key, cert: certs.server.cert, ca: certs.ca },
    requireClientCert: opts.requireClientCert ?? true,
    log: silentLogger(),
  })
  return { face, backend, certs, url: (path = '') => `wss://localhost:${face.port}${path}`, close: () => face.close() }
}

export interface SocketOptions {
  user?: string | null
  withCert?: boolean
}

/** The WebSocket options Qlik documents for enigma in Node: client cert, key, CA and X-Qlik-User. */
export function socketOptions(t: TestFace, opts: SocketOptions = {}): WebSocket.ClientOptions {
  const user = opts.user === undefined ? QLIK_USER : opts.user
  return {
    ca: t.certs.ca,
    ...(opts.withCert === false ? {} : { key: t.certs.client.key, cert: t.certs.client.cert }),
    headers: user === null ? {} : { 'X-Qlik-User': user },
  }
}

/** An enigma.js session created exactly as Qlik's documentation shows. */
export function enigmaSession(t: TestFace, path = '', opts: SocketOptions = {}): EnigmaJS.Session {
  return enigma.create({
    schema,
    url: t.url(path),
    createSocket: (url: string) => new WebSocket(url, socketOptions(t, opts)) as never,
  })
}

/** A raw socket for frames enigma would never send; collects every frame it receives. */
export async function rawSocket(t: TestFace, path = '/app/engineData'): Promise<RawSocket> {
  const ws = new WebSocket(t.url(path), socketOptions(t))
  const frames: Record<string, unknown>[] = []
  ws.on('message', (data) => frames.push(JSON.parse(data.toString()) as Record<string, unknown>))
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  return {
    frames,
    send: (frame) => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
    async reply(id) {
      for (let i = 0; i < 200; i++) {
        const found = frames.find((f) => f['id'] === id)
        if (found !== undefined) return found
        await new Promise((r) => setTimeout(r, 10))
      }
      throw new Error(`no reply for id ${String(id)}`)
    },
    close: () => ws.close(),
  }
}

export interface RawSocket {
  frames: Record<string, unknown>[]
  send(frame: string | object): void
  reply(id: number | string | null): Promise<Record<string, unknown>>
  close(): void
}
