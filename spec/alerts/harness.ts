import { createSocket } from 'node:dgram'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
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
  /** While true, connections are refused outright (the server is down). */
  close(): Promise<void>
}

export async function startMailbox(port = 0): Promise<Mailbox> {
  const box: Mailbox = { port: 0, mails: [], failWith: undefined, close: async () => undefined }
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
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
}

export interface HookReceiver {
  url: string
  calls: HookCall[]
  /** Answers for the next calls, in order; then 200. */
  script: Array<{ status: number; headers?: Record<string, string>; hangMs?: number }>
  close(): Promise<void>
  server: Server
}

export async function startHookReceiver(): Promise<HookReceiver> {
  const hook: HookReceiver = {
    url: '',
    calls: [],
    script: [],
    close: async () => undefined,
    server: undefined as unknown as Server,
  }
  hook.server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const answer = hook.script.shift() ?? { status: 200 }
      const reply = () => {
        hook.calls.push({
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        })
        res.writeHead(answer.status, answer.headers).end('ok')
      }
      if (answer.hangMs) setTimeout(reply, answer.hangMs)
      else reply()
    })
  })
  await new Promise<void>((resolve) => hook.server.listen(0, '127.0.0.1', () => resolve()))
  hook.url = `http://127.0.0.1:${(hook.server.address() as AddressInfo).port}/hook`
  hook.close = () =>
    new Promise((resolve) => {
      hook.server.closeAllConnections()
      hook.server.close(() => resolve())
    })
  return hook
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
