import { createSocket } from 'node:dgram'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { type AddressInfo, createServer as createNetServer } from 'node:net'
import { simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'
import type { RunningSimulator } from '../../src/sim/index.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { senseOverrides, startTestSim, tempCertDir } from '../sim/sim-harness.js'

/** Real receivers for the alert specs: an SMTP server, an HTTP webhook receiver, a UDP sender. */

export interface ReceivedMail {
  from: string
  to: string[]
  subject: string
  text: string
  html: string
  messageId: string
  headers: Map<string, unknown>
}

export interface Mailbox {
  port: number
  mails: ReceivedMail[]
  /** While set, every message is refused with this SMTP code (4xx: try later). */
  failWith: number | undefined
  /** SMTP connections accepted so far. */
  connections: number
  close(): Promise<void>
}

export async function startMailbox(port = 0): Promise<Mailbox> {
  const box: Mailbox = { port: 0, mails: [], failWith: undefined, connections: 0, close: async () => undefined }
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    disableReverseLookup: true,
    onConnect(_session, callback) {
      box.connections++
      callback()
    },
    onData(stream, _session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', async () => {
        if (box.failWith) {
          const err = Object.assign(new Error('try again later'), { responseCode: box.failWith })
          callback(err)
          return
        }
        const parsed = await simpleParser(Buffer.concat(chunks))
        const to = parsed.to ? (Array.isArray(parsed.to) ? parsed.to : [parsed.to]) : []
        box.mails.push({
          from: parsed.from?.text ?? '',
          to: to.flatMap((a) => a.value.map((v: { address?: string }) => v.address ?? '')),
          subject: parsed.subject ?? '',
          text: parsed.text ?? '',
          html: typeof parsed.html === 'string' ? parsed.html : '',
          messageId: parsed.messageId ?? '',
          headers: parsed.headers,
        })
        callback()
      })
    },
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()))
  box.port = (server.server.address() as AddressInfo).port
  box.close = () => new Promise((resolve) => server.close(() => resolve()))
  return box
}

export interface HookCall {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
  /** When the request arrived (epoch ms). */
  at: number
}

export interface HookAnswer {
  status: number
  headers?: Record<string, string>
  /** Answer only after this long (a receiver that hangs). */
  hangMs?: number
}

export interface HookReceiver {
  url: string
  port: number
  calls: HookCall[]
  /** Answers for the next calls, in order; then `otherwise`. */
  script: HookAnswer[]
  /** The answer once the script is used up (200 unless a spec sets an outage). */
  otherwise: HookAnswer
  close(): Promise<void>
  server: Server
}

/**
 * A real HTTP (or, with `tls`, HTTPS) webhook receiver. `port` reopens a known port, so a sender that
 * saw connection refused finds the receiver there once it comes up.
 */
export async function startHookReceiver(
  opts: { port?: number; tls?: { cert: string; key: string } } = {},
): Promise<HookReceiver> {
  const hook: HookReceiver = {
    url: '',
    port: 0,
    calls: [],
    script: [],
    otherwise: { status: 200 },
    close: async () => undefined,
    server: undefined as unknown as Server,
  }
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      hook.calls.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      })
      const answer: HookAnswer = hook.script.shift() ?? hook.otherwise
      const reply = () => {
        if (!res.destroyed) res.writeHead(answer.status, answer.headers).end('ok')
      }
      if (answer.hangMs) setTimeout(reply, answer.hangMs)
      else reply()
    })
  }
  hook.server = opts.tls ? createHttpsServer(opts.tls, handle) : createServer(handle)
  await new Promise<void>((resolve) => hook.server.listen(opts.port ?? 0, '127.0.0.1', () => resolve()))
  hook.port = (hook.server.address() as AddressInfo).port
  hook.url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${hook.port}/hook`
  hook.close = () =>
    new Promise((resolve) => {
      hook.server.closeAllConnections()
      hook.server.close(() => resolve())
    })
  return hook
}

/** A TCP port that was free a moment ago: nobody listens there, so a connection is refused. */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createNetServer()
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo
      s.close(() => resolve(port))
    })
  })
}

/** A UDP port that was free a moment ago: the simulator needs the receiver's port before sensebus starts. */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createSocket('udp4')
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

export function sendDatagram(port: number, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4')
    s.send(Buffer.from(text, 'utf8'), port, '127.0.0.1', (err) => {
      s.close()
      if (err) reject(err)
      else resolve()
    })
  })
}

export interface AlertRig {
  sim: RunningSimulator
  sb: TestApp
  udpPort: number
  certDir: string
  overrides: Record<string, unknown>
  restart(extra?: Record<string, unknown>): Promise<TestApp>
  close(): Promise<void>
}

/** The simulator sending its datagrams to a sensebus that reads QRS from it. */
export async function startAlertRig(name: string, overrides: Record<string, unknown> = {}): Promise<AlertRig> {
  const certDir = tempCertDir(`alert-${name}`)
  const udpPort = await freeUdpPort()
  const sim = await startTestSim(certDir, udpPort)
  const all = {
    ...senseOverrides(sim, certDir),
    'capabilities.alert.udp.port': udpPort,
    'outbox.baseDelayMs': 50,
    'outbox.maxDelayMs': 400,
    ...overrides,
  }
  const rig: AlertRig = {
    sim,
    sb: await startTestApp({ overrides: all }),
    udpPort,
    certDir,
    overrides: all,
    async restart(extra = {}) {
      const dataDir = rig.sb.dataDir
      await rig.sb.stop()
      rig.sb = await startTestApp({ dataDir, overrides: { ...all, ...extra } })
      return rig.sb
    },
    async close() {
      await rig.sb.stop({ clean: true })
      await sim.close()
    },
  }
  return rig
}

/** A datagram as the shipped appender writes it. */
export function datagram(
  f: Partial<{
    type: string
    host: string
    taskName: string
    appName: string
    user: string
    taskId: string
    appId: string
    date: string
    level: string
    executionId: string
    message: string
  }> = {},
): string {
  return [
    f.type ?? '/scheduler-task-failed/',
    f.host ?? 'pro2-win1',
    f.taskName ?? 'Manually triggered reload of Test failing reloads 2',
    f.appName ?? 'Test failing reloads 2',
    f.user ?? 'LAB\\goran',
    f.taskId ?? 'dec2a02a-1680-44ef-8dc2-e2bfb180af87',
    f.appId ?? 'e7af59a0-c243-480d-9571-08727551a66f',
    f.date ?? '2021-02-16 09:24:59,099',
    f.level ?? 'INFO',
    f.executionId ?? crypto.randomUUID(),
    f.message ?? 'Max retries reached',
  ].join(';')
}
