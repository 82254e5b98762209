import { createConnection, type Socket } from 'node:net'

/**
 * Hand-built MQTT 3.1.1 packets, for conformance cases a well-behaved client library refuses to send
 * (empty client id with CleanSession=0, invalid topic filters).
 */
function str(s: string): Buffer {
  const b = Buffer.from(s, 'utf8')
  const len = Buffer.alloc(2)
  len.writeUInt16BE(b.length)
  return Buffer.concat([len, b])
}

/** The MQTT "remaining length" variable-byte integer ([MQTT-2.2.3]). */
export function varint(n: number): number[] {
  const out: number[] = []
  do {
    let byte = n % 128
    n = Math.floor(n / 128)
    if (n > 0) byte |= 0x80
    out.push(byte)
  } while (n > 0)
  return out
}

function packet(type: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type]), Buffer.from(varint(body.length)), body])
}

export function connectPacket(clientId: string, clean: boolean): Buffer {
  const flags = clean ? 0x02 : 0x00
  return packet(0x10, Buffer.concat([str('MQTT'), Buffer.from([4, flags, 0, 30]), str(clientId)]))
}

export function subscribePacket(id: number, filters: Array<[string, number]>): Buffer {
  const pid = Buffer.alloc(2)
  pid.writeUInt16BE(id)
  return packet(0x82, Buffer.concat([pid, ...filters.map(([f, q]) => Buffer.concat([str(f), Buffer.from([q])]))]))
}

export interface RawConnection {
  socket: Socket
  /** Resolves with the next packet's bytes (fixed header included). */
  next(): Promise<Buffer>
  closed: Promise<void>
}

export function rawConnect(port: number): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ port, host: '127.0.0.1' }, () => resolve({ socket, next, closed }))
    socket.once('error', reject)
    let buf = Buffer.alloc(0)
    const waiting: Array<(b: Buffer) => void> = []
    const closed = new Promise<void>((r) => socket.once('close', () => r()))
    const pump = () => {
      while (buf.length >= 2 && waiting.length > 0) {
        let len = 0
        let mult = 1
        let i = 1
        for (; i < buf.length; i++) {
          const byte = buf[i] as number
          len += (byte & 0x7f) * mult
          mult *= 128
          if ((byte & 0x80) === 0) break
        }
        const total = i + 1 + len
        if (buf.length < total) return
        waiting.shift()!(buf.subarray(0, total))
        buf = buf.subarray(total)
      }
    }
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      pump()
    })
    const next = () =>
      new Promise<Buffer>((r) => {
        waiting.push(r)
        pump()
      })
  })
}

/** A QoS 0 PUBLISH (no packet id), for floods written straight to the socket. */
export function publishPacket(
  topic: string,
  payload: string | Buffer,
  opts: { qos?: 0 | 1; id?: number } = {},
): Buffer {
  const qos = opts.qos ?? 0
  const id = Buffer.alloc(qos > 0 ? 2 : 0)
  if (qos > 0) id.writeUInt16BE(opts.id ?? 1)
  return packet(0x30 | (qos << 1), Buffer.concat([str(topic), id, Buffer.from(payload)]))
}
