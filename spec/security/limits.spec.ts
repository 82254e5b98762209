import { get as httpGet } from 'node:http'
import { connect as netConnect, type Socket } from 'node:net'
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { modules } from '../../src/capabilities/index.js'
import { connect, type TestClient } from '../helpers/client.js'
import { varint } from '../helpers/raw-mqtt.js'
import { testModule } from '../helpers/slow-module.js'
import { startSecureApp, type SecureApp } from './harness.js'

/** MQTT 3.1.1 CONNECT for client id `raw`, clean session, keepalive 60 s. */
const CONNECT = Buffer.from([0x10, 15, 0, 4, ...Buffer.from('MQTT'), 4, 2, 0, 60, 0, 3, ...Buffer.from('raw')])

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ port, host: '127.0.0.1' }, () => resolve(s))
    s.once('error', reject)
  })
}

/** A GET on a new connection (fetch would reuse a pooled one). */
function freshGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    httpGet(url, { agent: false }, (res) => {
      let body = ''
      res.on('data', (d: Buffer) => (body += d.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    }).on('error', reject)
  })
}

const closedWithin = (s: Socket, ms: number) =>
  new Promise<number>((resolve, reject) => {
    const started = Date.now()
    const timer = setTimeout(() => reject(new Error(`socket still open after ${ms} ms`)), ms)
    s.once('close', () => {
      clearTimeout(timer)
      resolve(Date.now() - started)
    })
  })

describe('MQTT limits', () => {
  let sb: SecureApp
  let admin: TestClient

  beforeAll(async () => {
    sb = await startSecureApp({
      modules: [...modules, testModule],
      overrides: {
        'broker.maxPayloadBytes': 1024,
        'broker.maxConnections': 4,
        'bus.maxInFlightPerClient': 2,
        'log.level': 'silent',
      },
    })
    admin = await connect(sb.mqttUrl)
  })
  afterAll(async () => {
    await admin?.end()
    await sb?.stop()
  })

  it.each(['mqtt', 'ws'] as const)(
    'closes a %s connection that publishes more than maxPayloadBytes, answers PAYLOAD_TOO_LARGE, and keeps ' +
      'serving others',
    async (kind) => {
      const answers = await admin.collect('sense/response/kv/set')
      const big = await mqtt.connectAsync(sb.url(kind), { reconnectPeriod: 0 })
      const gone = new Promise<void>((r) => big.once('close', () => r()))
      big.publish('sense/request/kv/set', JSON.stringify({ namespace: 'n', key: kind, value: 'x'.repeat(2000) }), {
        qos: 1,
      })
      await gone
      await expect
        .poll(() => answers.map((a) => JSON.parse(a.payload) as { error?: { code: string } }))
        .toContainEqual(
          expect.objectContaining({ status: 'error', error: expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }) }),
        )
      answers.length = 0
      expect(await admin.request('kv/set', { namespace: 'n', key: kind, value: 'y'.repeat(900) })).toMatchObject({
        status: 'ok',
      })
      big.end(true)
    },
  )

  it('closes a connection as soon as a header declares a huge packet, before its body arrives', async () => {
    const s = await openSocket(Number(new URL(sb.mqttUrl).port))
    s.write(CONNECT)
    await new Promise((r) => s.once('data', r)) // CONNACK
    s.write(Buffer.from([0x30, ...varint(200 * 1024 * 1024), 0, 1, 0x74, ...Buffer.alloc(4096, 0x61)]))
    await closedWithin(s, 2000)
  })

  it('answers CONNACK 3 beyond maxConnections and admits again once one leaves', async () => {
    const extra = await Promise.all([1, 2, 3].map(() => mqtt.connectAsync(sb.mqttUrl, { reconnectPeriod: 0 })))
    await expect(mqtt.connectAsync(sb.mqttUrl, { reconnectPeriod: 0 })).rejects.toMatchObject({ code: 3 })
    await extra[0]!.endAsync()
    await expect
      .poll(async () => {
        const c = await mqtt.connectAsync(sb.mqttUrl, { reconnectPeriod: 0 }).catch(() => undefined)
        await c?.endAsync()
        return c !== undefined
      })
      .toBe(true)
    await Promise.all(extra.slice(1).map((c) => c.endAsync()))
  })

  it('frees a connection slot whenever a client leaves, over TCP and WebSocket alike', async () => {
    for (let i = 0; i < 6; i++) {
      for (const kind of ['mqtt', 'ws'] as const) {
        const c = await mqtt.connectAsync(sb.url(kind), { reconnectPeriod: 0 })
        if (i % 2 === 0) await c.endAsync()
        else c.end(true)
      }
    }
    await expect
      .poll(async () => {
        const c = await mqtt.connectAsync(sb.url('ws'), { reconnectPeriod: 0 }).catch(() => undefined)
        await c?.endAsync()
        return c !== undefined
      })
      .toBe(true)
  })

  it('queues a client beyond maxInFlightPerClient (flow control) without holding up other clients', async () => {
    const other = await connect(sb.mqttUrl)
    const done: string[] = []
    const burst = Promise.all(
      [1, 2, 3, 4].map((i) =>
        admin.request('test/sleep', { ms: 400, transaction: `burst-${i}` }).then((e) => {
          done.push(`burst-${i}`)
          return e
        }),
      ),
    )
    await new Promise((r) => setTimeout(r, 50))
    expect(await other.request('test/sleep', { ms: 10 })).toMatchObject({ status: 'ok' })
    done.push('other')
    const codes = (await burst).map((e) => (e.status === 'ok' ? 'ok' : e.error.code))
    // Every request of the busy client is served, two at a time; the other client went first.
    expect(codes).toEqual(['ok', 'ok', 'ok', 'ok'])
    expect(done[0]).toBe('other')
    await other.end()
  })

  it('answers BUSY once a client has its share in flight and its queue full', async () => {
    // maxInFlightPerClient 2: two run, 16 (eight times the share) wait, the rest are refused.
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        admin.request('test/sleep', { ms: 20, transaction: `q-${i}` }, { timeoutMs: 10_000 }),
      ),
    )
    const codes = answers.map((e) => (e.status === 'ok' ? 'ok' : e.error.code))
    expect(codes.filter((c) => c === 'ok')).toHaveLength(18)
    expect(codes.filter((c) => c === 'BUSY')).toHaveLength(2)
  })
})

describe('HTTP limits', () => {
  let sb: SecureApp
  let port: number

  beforeAll(async () => {
    sb = await startSecureApp({
      overrides: {
        'http.bodyLimitBytes': 512,
        'http.maxConnections': 3,
        'http.headersTimeoutMs': 500,
        'http.bodyTimeoutMs': 500,
        'log.level': 'silent',
      },
    })
    port = Number(new URL(sb.httpUrl).port)
  })
  afterAll(async () => {
    await sb?.stop()
  })

  it('answers an oversized body 413 in both dialects and keeps serving', async () => {
    const body = JSON.stringify({ key: 'k', value: 'x'.repeat(1000) })
    const butler = await fetch(`${sb.httpUrl}/v4/keyvalues/ns`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    })
    expect(butler.status).toBe(413)
    expect(await butler.json()).toMatchObject({ statusCode: 413, code: 'PAYLOAD_TOO_LARGE' })
    const generic = await fetch(`${sb.httpUrl}/api/v1/kv/set`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    })
    expect(await generic.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' })
    expect((await fetch(`${sb.httpUrl}/v4/butlerping`)).status).toBe(200)
  })

  it('drops a client that trickles its headers (slowloris) while serving others', async () => {
    const s = await openSocket(port)
    s.write('GET /v4/butlerping HTTP/1.1\r\nHost: x\r\n')
    const trickle = setInterval(() => s.writable && s.write('X-Slow: 1\r\n'), 100)
    const closed = closedWithin(s, 3000)
    expect((await fetch(`${sb.httpUrl}/v4/butlerping`)).status).toBe(200)
    expect(await closed).toBeLessThan(3000)
    clearInterval(trickle)
  })

  it('drops a client that trickles its body', async () => {
    const s = await openSocket(port)
    s.write(
      'POST /api/v1/util/ping HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{',
    )
    const trickle = setInterval(() => s.writable && s.write(' '), 200)
    expect(await closedWithin(s, 3000)).toBeLessThan(3000)
    clearInterval(trickle)
  })

  it('answers 503 BUSY beyond maxConnections, and serves again once connections close', async () => {
    const idle = await Promise.all([1, 2, 3].map(() => openSocket(port)))
    const res = await freshGet(`${sb.httpUrl}/v4/butlerping`)
    expect(res.status).toBe(503)
    expect(JSON.parse(res.body)).toMatchObject({ statusCode: 503, code: 'BUSY' })
    idle.forEach((s) => s.destroy())
    await expect.poll(async () => (await freshGet(`${sb.httpUrl}/v4/butlerping`)).status).toBe(200)
  })
})
