import { createSocket } from 'node:dgram'
import { mkdtempSync, readFileSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../src/sim/index.js'

/** Shared helpers for the simulator specs: one simulator per file, real sockets, ephemeral ports. */

export const XRF = 'abcdefghij012345'

/** Config overrides that point sensebus at a running simulator, trusting the certificates in `certDir`. */
export function senseOverrides(sim: RunningSimulator, certDir: string): Record<string, unknown> {
  return {
    'sense.host': '127.0.0.1',
    'sense.qrs.port': sim.settings.qrsPort,
    'sense.engine.port': sim.settings.enginePort,
    'sense.certs.dir': certDir,
  }
}

export function tempCertDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `sensebus-${name}-`))
}

export interface UdpReceiver {
  port: number
  /** Resolves with the next datagram's raw bytes. */
  next(timeoutMs?: number): Promise<Buffer>
  /** Datagrams received so far and not taken by next(). */
  pending(): Buffer[]
  close(): Promise<void>
}

export async function udpReceiver(): Promise<UdpReceiver> {
  const socket = createSocket('udp4')
  const queue: Buffer[] = []
  const waiters: Array<(b: Buffer) => void> = []
  socket.on('message', (msg) => {
    const waiter = waiters.shift()
    if (waiter) waiter(msg)
    else queue.push(msg)
  })
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()))
  return {
    port: socket.address().port,
    next: (timeoutMs = 5000) => {
      const queued = queue.shift()
      if (queued) return Promise.resolve(queued)
      return new Promise((resolve, reject) => {
        const waiter = (b: Buffer): void => {
          clearTimeout(timer)
          resolve(b)
        }
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1)
          reject(new Error('no datagram within timeout'))
        }, timeoutMs)
        waiters.push(waiter)
      })
    },
    pending: () => queue.splice(0),
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  }
}

export async function startTestSim(
  certDir: string,
  udpPort: number,
  extra: Partial<SimulatorOptions> = {},
): Promise<RunningSimulator> {
  return startSimulator({
    certDir,
    qrsPort: 0,
    enginePort: 0,
    controlPort: 0,
    udpTarget: { host: '127.0.0.1', port: udpPort },
    timing: { triggeredToSendingMs: 0, sendingToStartedMs: 0, startedToScriptLogMs: 0 },
    faults: { udpLagMs: 5 },
    engineReloadMs: 20,
    ...extra,
  })
}

export interface QrsReply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
  json<T = unknown>(): T
}

export interface QrsCallOptions {
  method?: string
  body?: string
  /** Query xrfkey; null leaves it out. */
  xrfkey?: string | null
  /** Header xrfkey; null leaves it out. */
  xrfHeader?: string | null
  user?: string | null
  /** Client certificate: 'sim' (default), 'none', or a PEM pair. */
  cert?: 'sim' | 'none' | { cert: string; key: string }
  headers?: Record<string, string>
  port?: number
}

/** One QRS call the way Butler makes it: `?...&xrfkey=` plus header, X-Qlik-User, client certificate. */
export function qrs(sim: RunningSimulator, path: string, opts: QrsCallOptions = {}): Promise<QrsReply> {
  const s = sim.settings
  const xrfkey = opts.xrfkey === undefined ? XRF : opts.xrfkey
  const xrfHeader = opts.xrfHeader === undefined ? XRF : opts.xrfHeader
  const sep = path.includes('?') ? '&' : '?'
  // What axios / WHATWG URL do to Butler's raw filters: space → %20, ' → %27 (§1.5.1).
  const encoded = path.replace(/ /g, '%20').replace(/'/g, '%27')
  const fullPath = xrfkey === null ? encoded : `${encoded}${sep}xrfkey=${xrfkey}`
  const headers: Record<string, string> = { 'content-type': 'application/json', ...opts.headers }
  if (xrfHeader !== null) headers['X-Qlik-Xrfkey'] = xrfHeader
  const user = opts.user === undefined ? 'UserDirectory=Internal;UserId=sa_repository' : opts.user
  if (user !== null) headers['X-Qlik-User'] = user
  const certChoice = opts.cert ?? 'sim'
  const pair =
    certChoice === 'sim'
      ? { cert: readFileSync(s.certFiles.client, 'utf8'), key: readFileSync(s.certFiles.clientKey, 'utf8') }
      : certChoice === 'none'
        ? undefined
        : certChoice
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: s.host,
        port: opts.port ?? s.qrsPort,
        path: fullPath,
        method: opts.method ?? 'GET',
        headers,
        ca: readFileSync(s.certFiles.root, 'utf8'),
        cert: pair?.cert,
        key: pair?.key,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8')
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: <T>() => JSON.parse(body) as T })
        })
      },
    )
    req.on('error', reject)
    req.end(opts.body)
  })
}

/** A control-API call (QLIK-PROTOCOLS §4.7). */
export async function control(
  sim: RunningSimulator,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${sim.settings.controlUrl}/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  return { status: res.status, json: text ? (JSON.parse(text) as unknown) : null }
}

/** Polls until `check` returns a value (not undefined). */
export async function waitFor<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > until) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}

export const IDS = {
  failingTask: 'dec2a02a-1680-44ef-8dc2-e2bfb180af87',
  failingApp: 'e7af59a0-c243-480d-9571-08727551a66f',
  salesTask: '5b6a3c2e-0d1f-4e8a-9b7c-6d5e4f3a2b1c',
  salesApp: '8e7d6c5b-4a39-4281-b0c1-d2e3f4a5b6c7',
  etlTask: '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a',
  distributeTask: '7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d',
  preloadTask: '1b2c3d4e-5f60-4718-89a0-b1c2d3e4f5a6',
  slowTask: '3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7',
  retryTask: '4f5a6b7c-8d9e-4f0a-b1c2-d3e4f5a6b7c8',
  externalTask: '5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d',
  userSyncTask: '6b7c8d9e-0f1a-4b2c-9d3e-4f5a6b7c8d9e',
  disabledTask: '7c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f',
  goran: '2d0b8a9c-1f3e-4a5b-8c7d-6e5f4a3b2c1d',
  butlerTag: 'a2c5e1f0-3b7d-4c2e-9a8f-7d6e5c4b3a21',
  failedAlertDef: '0a1f2b6c-2f2e-4a3f-8b1e-0f9b1f6a2d77',
} as const
