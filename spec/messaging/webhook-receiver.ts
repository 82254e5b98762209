import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReceivedPost {
  path: string
  headers: IncomingHttpHeaders
  body: unknown
}

/** What the receiver answers to the next call: a status, a body and headers (Retry-After). */
export interface Reply {
  status: number
  body?: string
  headers?: Record<string, string>
}

/**
 * A real webhook receiver on an ephemeral port. Replies are scripted per call: `script` is consumed
 * first, then `fallback` answers every further call. `down()`/`up()` close and reopen the same port,
 * so a sender sees connection refused in between.
 */
export async function startReceiver(opts: { script?: Reply[]; fallback?: Reply } = {}) {
  const received: ReceivedPost[] = []
  const script = [...(opts.script ?? [])]
  let fallback: Reply = opts.fallback ?? { status: 200, body: 'ok' }
  const handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      let body: unknown = text
      try {
        body = JSON.parse(text)
      } catch {}
      received.push({ path: req.url ?? '', headers: req.headers, body })
      const reply = script.shift() ?? fallback
      res.writeHead(reply.status, { 'content-type': 'text/plain', ...reply.headers })
      res.end(reply.body ?? '')
    })
  }
  let server: Server = createServer(handler)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  return {
    received,
    port,
    url: (path = '/services/T000/B000/XXXXSECRET') => `http://127.0.0.1:${port}${path}`,
    setFallback(reply: Reply) {
      fallback = reply
    },
    /** Replies for the next calls, after any still scripted. */
    script(...replies: Reply[]) {
      script.push(...replies)
    },
    /** Forgets what was received so far (one rig, several tests). */
    clear() {
      received.length = 0
    },
    async down() {
      await new Promise<void>((r) => {
        server.close(() => r())
        server.closeAllConnections()
      })
    },
    async up() {
      server = createServer(handler)
      await new Promise<void>((r) => server.listen(port, '127.0.0.1', r))
    },
    async close() {
      if (!server.listening) return
      await new Promise<void>((r) => {
        server.close(() => r())
        server.closeAllConnections()
      })
    },
  }
}
