import type { Duplex } from 'node:stream'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { guardPacketSize, type Oversize } from '../../src/broker/packet-size-guard.js'
import { varint } from '../helpers/raw-mqtt.js'

const LIMIT = 300

interface Packet {
  kind: 'publish' | 'other'
  qos: 0 | 1
  topic: string
  payloadBytes: number
}

/** The wire form: PUBLISH with its topic, packet id for QoS 1 and payload; other packets as opaque bodies. */
function encode(p: Packet): Buffer {
  if (p.kind === 'other') return Buffer.from([0x82, ...varint(p.payloadBytes), ...Buffer.alloc(p.payloadBytes, 1)])
  const topic = Buffer.from(p.topic)
  const body = Buffer.concat([
    Buffer.from([topic.length >> 8, topic.length & 0xff]),
    topic,
    p.qos ? Buffer.from([0, 7]) : Buffer.alloc(0),
    Buffer.alloc(p.payloadBytes, 0x61),
  ])
  return Buffer.concat([Buffer.from([0x30 | (p.qos << 1), ...varint(body.length)]), body])
}

/** A stream stand-in whose read() hands out the given chunks, as Aedes would read them. */
function fakeStream(chunks: Buffer[]): { stream: Duplex; destroyed: () => boolean } {
  let destroyed = false
  const stream = { read: () => chunks.shift() ?? null, destroy: () => void (destroyed = true) }
  return { stream: stream as unknown as Duplex, destroyed: () => destroyed }
}

function split(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b)
  const out: Buffer[] = []
  let at = 0
  for (const p of [...points, buf.length]) {
    if (p > at) out.push(buf.subarray(at, p))
    at = p
  }
  return out
}

const packet = fc.record({
  kind: fc.constantFrom('publish' as const, 'other' as const),
  qos: fc.constantFrom(0 as const, 1 as const),
  topic: fc.string({ minLength: 1, maxLength: 40 }),
  payloadBytes: fc.oneof(fc.integer({ min: 0, max: LIMIT }), fc.integer({ min: 0, max: LIMIT * 3 })),
})

describe('packet size guard', () => {
  it(
    'passes every byte of packets within the limit and trips on the first PUBLISH over it, however the stream is ' +
      'split',
    () => {
      fc.assert(
        fc.property(
          fc.array(packet, { minLength: 1, maxLength: 8 }),
          fc.array(fc.nat(), { maxLength: 12 }),
          (packets, cuts) => {
            const wire = Buffer.concat(packets.map(encode))
            const { stream, destroyed } = fakeStream(split(wire, cuts))
            const trips: Oversize[] = []
            guardPacketSize(stream, LIMIT, (_stream, info) => trips.push(info))
            const passed: Buffer[] = []
            for (let chunk = stream.read() as Buffer | null; chunk !== null; chunk = stream.read() as Buffer | null)
              passed.push(chunk)

            // Non-PUBLISH packets get header room on top of the limit, so only PUBLISH payloads trip here.
            const firstBad = packets.find((p) => p.kind === 'publish' && p.payloadBytes > LIMIT)
            if (!firstBad) {
              expect(trips).toEqual([])
              expect(destroyed()).toBe(false)
              expect(Buffer.concat(passed).equals(wire)).toBe(true)
            } else {
              expect(trips).toHaveLength(1)
              expect(trips[0]?.topic).toBe(firstBad.topic)
              expect(destroyed()).toBe(true)
              // Nothing of the oversized packet's chunk reaches the parser.
              expect(Buffer.concat(passed).length).toBeLessThan(
                wire.indexOf(encode(firstBad)) + encode(firstBad).length,
              )
            }
          },
        ),
        { numRuns: 500 },
      )
    },
  )

  it('trips on a declared length far beyond the limit before any of the body arrives', () => {
    const { stream, destroyed } = fakeStream([Buffer.from([0x30, ...varint(256 * 1024 * 1024 - 1)])])
    const trips: Oversize[] = []
    guardPacketSize(stream, LIMIT, (_stream, info) => trips.push(info))
    expect(stream.read()).toBeNull()
    expect(trips).toEqual([{ declaredBytes: 256 * 1024 * 1024 - 1 }])
    expect(destroyed()).toBe(true)
  })
})
