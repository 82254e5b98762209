/**
 * Hand-built MQTT 3.1.1 for load sides that must cost far less than the broker they measure: many idle
 * connections (idle.ts), and a subscriber that only counts what arrives (retained-mosquitto.ts).
 */
import { createConnection, type Socket } from 'node:net'

/** An MQTT 3.1.1 CONNECT: clean session, keepalive 600 s, no user name. */
export function connectPacket(clientId: string): Buffer {
  const id = Buffer.from(clientId)
  const variable = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 600 >> 8, 600 & 0xff])
  const remaining = variable.length + 2 + id.length
  // One length byte is enough: client ids here are far shorter than 100 bytes.
  return Buffer.concat([Buffer.from([0x10, remaining]), variable, Buffer.from([id.length >> 8, id.length & 0xff]), id])
}

/** SUBSCRIBE with packet id 1 to one filter (shorter than 100 bytes). */
function subscribePacket(filter: string, qos: 0 | 1): Buffer {
  const f = Buffer.from(filter)
  return Buffer.concat([
    Buffer.from([0x82, 2 + 2 + f.length + 1, 0, 1, f.length >> 8, f.length & 0xff]),
    f,
    Buffer.from([qos]),
  ])
}

/**
 * A subscriber that parses only packet boundaries: it counts PUBLISH packets and acknowledges those with
 * QoS 1 with one write per socket read (all PUBACKs of that read together).
 */
export class CountingSubscriber {
  private pending: Buffer = Buffer.alloc(0)
  private received = 0
  private onPublish: () => void = () => undefined

  private constructor(private readonly socket: Socket) {}

  /** Connected (CONNACK 0), nothing subscribed yet. */
  static connect(host: string, port: number, clientId: string): Promise<CountingSubscriber> {
    return new Promise((resolve, reject) => {
      const socket = createConnection({ host, port, noDelay: true })
      const sub = new CountingSubscriber(socket)
      socket.once('error', reject)
      socket.once('connect', () => socket.write(connectPacket(clientId)))
      socket.once('data', (d: Buffer) => {
        if (d[0] !== 0x20 || d[3] !== 0) return reject(new Error('CONNECT refused'))
        socket.on('data', (chunk: Buffer) => sub.read(chunk))
        resolve(sub)
      })
    })
  }

  /** Subscribes; resolves with the time the `n`-th PUBLISH arrived (NaN after `timeoutMs`). */
  receive(filter: string, qos: 0 | 1, n: number, timeoutMs: number, now: () => number): Promise<number> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(Number.NaN), timeoutMs)
      this.onPublish = () => {
        if (this.received !== n) return
        clearTimeout(timer)
        resolve(now())
      }
      this.socket.write(subscribePacket(filter, qos))
    })
  }

  get count(): number {
    return this.received
  }

  close(): void {
    this.socket.destroy()
  }

  private read(chunk: Buffer): void {
    const buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk
    const acks: number[] = []
    let at = 0
    for (;;) {
      // Fixed header: type and flags, then the remaining length in 1 to 4 bytes.
      let length = 0
      let i = at + 1
      let whole = false
      for (let shift = 1; i < buf.length; shift *= 128) {
        const byte = buf[i++] as number
        length += (byte & 0x7f) * shift
        if (byte < 0x80) {
          whole = true
          break
        }
      }
      if (!whole || i + length > buf.length) break
      const first = buf[at] as number
      if (first >> 4 === 3) {
        this.received++
        if ((first & 0x06) !== 0) acks.push(buf.readUInt16BE(i + 2 + buf.readUInt16BE(i)))
        this.onPublish()
      }
      at = i + length
    }
    this.pending = buf.subarray(at)
    if (acks.length === 0) return
    const out = Buffer.allocUnsafe(acks.length * 4)
    acks.forEach((id, k) => out.writeUInt32BE((0x40 << 24) | (2 << 16) | id, k * 4))
    this.socket.write(out)
  }
}
