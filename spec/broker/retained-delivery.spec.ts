import { Writable } from 'node:stream'
import type { Client } from 'aedes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { retainedDelivery } from '../../src/broker/retained-delivery.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { connect } from '../helpers/client.js'

/** Enough retained messages for several of retained-delivery.ts' 64 KB batches. */
const COUNT = 3000
const payloadOf = (i: number) => JSON.stringify({ i, pad: 'p'.repeat(100) })

describe('retained messages for a new subscription (written in batches)', () => {
  let sb: TestApp
  beforeAll(async () => {
    sb = await startTestApp()
    await Promise.all(
      Array.from({ length: COUNT }, (_, i) =>
        sb.app.bus.publish(`sense/state/batch/${i}`, payloadOf(i), { qos: 1, retain: true }),
      ),
    )
  })
  afterAll(async () => sb?.stop({ clean: true }))

  async function receiveAll(qos: 0 | 1) {
    const client = await connect(sb.mqttUrl)
    const got: Array<{ topic: string; payload: string; qos: number; retain: boolean }> = []
    client.mqtt.on('message', (topic, payload, packet) => {
      if (topic.startsWith('sense/state/batch/'))
        got.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain })
    })
    await client.mqtt.subscribeAsync('sense/state/batch/#', { qos })
    await expect.poll(() => got.length, { timeout: 10_000 }).toBe(COUNT)
    await new Promise((r) => setTimeout(r, 100))
    await client.end()
    return got
  }

  it('a wildcard subscriber gets each one once, with its payload and the retain flag', async () => {
    const got = await receiveAll(1)
    expect(got).toHaveLength(COUNT)
    expect(new Set(got.map((m) => m.topic)).size).toBe(COUNT)
    for (const m of got) {
      expect(m.payload).toBe(payloadOf(Number(m.topic.split('/').at(-1))))
      expect(m.retain).toBe(true)
      expect(m.qos).toBe(1)
    }
  })

  it('[MQTT-3.8.4-6] at the lower of the stored QoS and the granted one', async () => {
    const got = await receiveAll(0)
    expect(got.every((m) => m.qos === 0)).toBe(true)
  })
})

describe('retainedDelivery on a socket that takes its writes slowly', () => {
  /** PUBLISH packets in `bytes` (remaining lengths under 128 here): topic, QoS and packet id of each. */
  function publishes(bytes: Buffer): Array<{ topic: string; qos: number; id?: number }> {
    const out: Array<{ topic: string; qos: number; id?: number }> = []
    for (let at = 0; at < bytes.length; ) {
      const first = bytes[at] as number
      const length = bytes[at + 1] as number
      const topicLength = bytes.readUInt16BE(at + 2)
      const topic = bytes.toString('utf8', at + 4, at + 4 + topicLength)
      const qos = (first >> 1) & 3
      out.push(qos > 0 ? { topic, qos, id: bytes.readUInt16BE(at + 4 + topicLength) } : { topic, qos })
      at += 2 + length
    }
    return out
  }

  function slowClient() {
    const written: Buffer[] = []
    // Each write finishes a tick later, as when the kernel does not take it at once.
    const conn = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _enc, cb) {
        written.push(chunk)
        setTimeout(cb, 1)
      },
    })
    const client = { id: 'slow', conn, closed: false, _nextId: 1 } as unknown as Client
    return { client, written: () => publishes(Buffer.concat(written)) }
  }

  // 1,024 messages of 13 bytes make a batch under the socket's high-water mark: no 'drain' follows it.
  const stored = Array.from({ length: 5000 }, (_, i) => ({
    cmd: 'publish' as const,
    topic: `t/${i}`,
    payload: Buffer.from('x'),
    qos: 1 as const,
    retain: true,
  }))

  it('sends every batch, each message through authorizeForward, with packet ids in turn', async () => {
    const { client, written } = slowClient()
    const deliver = retainedDelivery({
      matching: () => stored[Symbol.iterator](),
      // What an ACL that filters delivery does: odd topics are not for this client.
      authorizeForward: (_client, packet) => (Number(packet.topic.slice(2)) % 2 === 0 ? packet : null),
      onError: (_client, err) => {
        throw err
      },
    })
    deliver([{ topic: 't/#', qos: 1 }], client)
    await expect.poll(() => written().length, { timeout: 5000 }).toBe(2500)
    const got = written()
    expect(got.map((m) => m.topic)).toEqual(stored.filter((_, i) => i % 2 === 0).map((m) => m.topic))
    expect(got.map((m) => m.id)).toEqual(got.map((_, k) => k + 1))
  })

  it('[MQTT-3.8.4-6] a QoS 0 grant gets QoS 0 messages without packet ids', async () => {
    const { client, written } = slowClient()
    retainedDelivery({
      matching: () => stored[Symbol.iterator](),
      authorizeForward: (_client, packet) => packet,
      onError: (_client, err) => {
        throw err
      },
    })([{ topic: 't/#', qos: 0 }], client)
    await expect.poll(() => written().length, { timeout: 5000 }).toBe(5000)
    expect(written().every((m) => m.qos === 0 && m.id === undefined)).toBe(true)
  })
})
