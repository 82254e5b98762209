import { createConnection, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect } from '../helpers/client.js'
import { type ServerProcess, startServer } from '../helpers/process.js'
import { connectPacket, publishPacket, subscribePacket } from '../helpers/raw-mqtt.js'

/** A client that writes requests as fast as the socket takes them, after its CONNACK. */
function flooder(port: number, id: string, stopAt: number): Promise<void> {
  const batch = Buffer.concat(Array.from({ length: 2000 }, () => publishPacket('sense/request/util/ping', '{}')))
  return new Promise((resolve) => {
    const socket: Socket = createConnection({ port, host: '127.0.0.1' }, () => {
      socket.write(connectPacket(id, true))
      socket.once('data', () => {
        socket.write(subscribePacket(1, [['sense/response/util/+', 0]]))
        const pump = () => {
          while (Date.now() < stopAt) if (!socket.write(batch)) return void socket.once('drain', pump)
          socket.end()
        }
        pump()
      })
    })
    socket.on('data', () => undefined)
    socket.on('error', () => undefined)
    socket.on('close', () => resolve())
  })
}

describe('a request flood', () => {
  let server: ServerProcess
  beforeAll(async () => {
    // Four floods of audit lines would mostly measure the pipe to this test process.
    server = await startServer([], { SENSEBUS_SECURITY__AUDIT__LOG: 'false' })
  })
  afterAll(async () => {
    server?.child.kill('SIGTERM')
    await server?.exited
  })

  it('does not crash sensebus, and another client is answered during and after it', async () => {
    const port = server.endpoints.mqtt?.port as number
    const floods = Array.from({ length: 4 }, (_, i) => flooder(port, `flood-${i}`, Date.now() + 3000))
    const other = await connect(server.mqttUrl)
    const during: string[] = []
    for (let i = 0; i < 5; i++) {
      const env = await other.request('util/ping', {}, { timeoutMs: 10_000 })
      during.push(env.status)
      await new Promise((r) => setTimeout(r, 300))
    }
    await Promise.all(floods)
    expect(during).toEqual(['ok', 'ok', 'ok', 'ok', 'ok'])
    expect(await other.request('util/ping', {})).toMatchObject({ status: 'ok' })
    expect(server.child.exitCode).toBeNull()
    expect(server.stdout()).not.toContain('Maximum call stack')
    await other.end()
  })
})
