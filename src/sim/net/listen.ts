import type { Server as HttpServer } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'

export interface RunningServer {
  port: number
  close(): Promise<void>
}

/** Listens and resolves with the chosen port (port 0 picks a free one); close() drops open sockets. */
export function listen(server: HttpServer | HttpsServer, host: string, port: number): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      const chosen = (server.address() as AddressInfo).port
      resolve({
        port: chosen,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done())
            server.closeAllConnections()
          }),
      })
    })
  })
}
