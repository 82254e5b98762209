import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * Stand-ins for Slack's incoming webhooks, a Teams Workflows webhook and a plain webhook receiver: each a
 * loopback HTTP server that answers 200 and hands the request body over, so the demo can show what a real
 * receiver would get.
 */

export interface Received {
  method: string
  path: string
  body: string
}

export interface Receiver {
  url: string
  close(): Promise<void>
}

/** A body beyond this is answered 413 and not shown. */
const MAX_BODY_BYTES = 1024 * 1024

export async function startReceiver(onRequest: (req: Received) => void): Promise<Receiver> {
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size <= MAX_BODY_BYTES) chunks.push(c)
    })
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) {
        res.writeHead(413).end()
        return
      }
      onRequest({
        method: req.method ?? '',
        path: req.url ?? '',
        body: Buffer.concat(chunks).toString('utf8'),
      })
      // Slack answers a plain "ok"; Teams and most webhooks accept any 2xx.
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok')
    })
  })
  server.requestTimeout = 10_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hook`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
