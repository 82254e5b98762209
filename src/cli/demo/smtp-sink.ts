import { type AddressInfo, createServer, type Socket } from 'node:net'

/**
 * A receive-only SMTP server for the demo: it accepts every mail and hands it over, never relays. Small on
 * purpose (RFC 5321's minimum: HELO/EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT; no TLS, no AUTH), because the
 * demo runs from dist and smtp-server is only a devDependency. It listens on loopback only.
 */

export interface SinkMail {
  /** The envelope: who the sending server said the mail is for (RCPT TO). */
  from: string
  to: string[]
  raw: Buffer
}

export interface SinkLimits {
  /** Bigger messages are refused with 552 (the connection stays usable). */
  maxMessageBytes: number
  maxRecipients: number
  maxConnections: number
  /** A connection idle this long is closed. */
  idleMs: number
}

export interface SmtpSink {
  port: number
  close(): Promise<void>
}

const DEFAULT_LIMITS: SinkLimits = {
  maxMessageBytes: 1024 * 1024,
  maxRecipients: 100,
  maxConnections: 20,
  idleMs: 30_000,
}
const NAME = 'sensebus-demo'
const address = (arg: string) => /<([^>]*)>/.exec(arg)?.[1] ?? arg.trim()

function session(socket: Socket, limits: SinkLimits, onMail: (mail: SinkMail) => void): void {
  let pending = Buffer.alloc(0)
  let from = ''
  let to: string[] = []
  let data: Buffer[] | undefined
  let size = 0
  const reply = (text: string) => {
    if (!socket.destroyed) socket.write(`${text}\r\n`)
  }

  const command = (line: string) => {
    const verb = line.slice(0, 4).toUpperCase()
    const arg = line.slice(line.indexOf(':') + 1)
    if (verb === 'EHLO') return reply(`250-${NAME}\r\n250 SIZE ${limits.maxMessageBytes}`)
    if (verb === 'HELO' || verb === 'NOOP') return reply(`250 ${NAME}`)
    if (verb === 'MAIL') {
      from = address(arg)
      to = []
      return reply('250 sender ok')
    }
    if (verb === 'RCPT') {
      if (to.length >= limits.maxRecipients) return reply('452 too many recipients')
      to.push(address(arg))
      return reply('250 recipient ok')
    }
    if (verb === 'DATA') {
      if (to.length === 0) return reply('503 RCPT first')
      data = []
      size = 0
      return reply('354 end with <CRLF>.<CRLF>')
    }
    if (verb === 'RSET') {
      from = ''
      to = []
      return reply('250 reset')
    }
    if (verb === 'QUIT') {
      reply(`221 ${NAME} bye`)
      return socket.end()
    }
    reply('502 command not implemented')
  }

  const dataLine = (line: Buffer) => {
    if (line.length === 1 && line[0] === 0x2e) {
      const chunks = data ?? []
      data = undefined
      if (size > limits.maxMessageBytes) return reply('552 message too big')
      onMail({ from, to, raw: Buffer.concat(chunks) })
      return reply('250 accepted')
    }
    // Dot-stuffing (RFC 5321 §4.5.2): a line that starts with a dot was sent with one more.
    const body = line[0] === 0x2e ? line.subarray(1) : line
    size += body.length + 2
    if (size <= limits.maxMessageBytes) data?.push(body, Buffer.from('\r\n'))
  }

  socket.setTimeout(limits.idleMs, () => socket.destroy())
  socket.on('error', () => socket.destroy())
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk])
    for (let end = pending.indexOf('\r\n'); end >= 0; end = pending.indexOf('\r\n')) {
      const line = pending.subarray(0, end)
      pending = pending.subarray(end + 2)
      if (data) dataLine(line)
      else command(line.toString('latin1'))
    }
    // A command line without an end is someone else's protocol: no reason to buffer it without limit.
    if (!data && pending.length > 4096) socket.destroy()
  })
  reply(`220 ${NAME} ESMTP`)
}

export async function startSmtpSink(
  onMail: (mail: SinkMail) => void,
  opts: { port?: number; limits?: Partial<SinkLimits> } = {},
): Promise<SmtpSink> {
  const limits = { ...DEFAULT_LIMITS, ...opts.limits }
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    session(socket, limits, onMail)
  })
  server.maxConnections = limits.maxConnections
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve())
  })
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        // A pooling sender keeps its connections open; closing waits for none of them.
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}
