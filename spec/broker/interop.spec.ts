import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashPassword } from '../../src/security/hash.js'
import { rawConnect } from '../helpers/raw-mqtt.js'
import { securityOverrides, startSecureApp, type SecureApp, TEST_COST } from '../security/harness.js'

/**
 * The ten scenarios of the Eclipse Paho MQTT 3.1.1 client interoperability suite (client_test.py),
 * rebuilt here with mqtt.js against sensebus with the config the README documents for it: a user whose
 * role may publish and subscribe anywhere outside sensebus' trees except `test/nosubscribe`.
 */
const TOPICS = ['TopicA', 'TopicA/B', 'Topic/C', 'TopicA/C', '/TopicA']
const WILDTOPICS = ['TopicA/+', '+/C', '#', '/#', '/+', '+/+', 'TopicA/#']
const NOSUBSCRIBE = 'test/nosubscribe'
const PASSWORD = 'interop-pw-41ac'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('Paho MQTT 3.1.1 interoperability scenarios', () => {
  let sb: SecureApp
  const opened: MqttClient[] = []

  const open = async (clientId: string, opts: IClientOptions = {}) => {
    const c = await mqtt.connectAsync(sb.mqttUrl, {
      clientId,
      username: 'interop',
      password: PASSWORD,
      reconnectPeriod: 0,
      ...opts,
    })
    opened.push(c)
    return c
  }
  /** Reconnects a persistent session, collecting from the first packet (what it queued arrives at once). */
  const resume = (clientId: string) => {
    const back = mqtt.connect(sb.mqttUrl, {
      clientId,
      clean: false,
      username: 'interop',
      password: PASSWORD,
      reconnectPeriod: 0,
    })
    opened.push(back)
    return received(back)
  }
  const received = (c: MqttClient) => {
    const got: Array<{ topic: string; payload: string; qos: number; retain: boolean }> = []
    c.on('message', (topic, payload, packet) =>
      got.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain }),
    )
    return got
  }
  /** Clears retained messages and persistent sessions between scenarios, as the suite's cleanup does. */
  const cleanup = async () => {
    for (const c of opened.splice(0)) c.end(true)
    for (const id of ['myclientid', 'myclientid2']) (await open(id, { clean: true })).end(true)
    const c = await open('clean retained', { clean: true })
    const stale = received(c)
    await c.subscribeAsync('#', { qos: 0 })
    await sleep(300)
    for (const m of stale) if (m.retain) await c.publishAsync(m.topic, '', { qos: 0, retain: true })
    c.end(true)
  }

  beforeAll(async () => {
    const base = await securityOverrides()
    sb = await startSecureApp({
      overrides: {
        ...base,
        'security.users': [
          ...(base['security.users'] as unknown[]),
          { username: 'interop', passwordHash: await hashPassword(PASSWORD, TEST_COST), roles: ['interop'] },
        ],
        'security.roles': {
          ...(base['security.roles'] as Record<string, unknown>),
          interop: { publish: ['#'], subscribe: ['#'], denySubscribe: [NOSUBSCRIBE] },
        },
      },
    })
  })
  afterAll(async () => {
    for (const c of opened) c.end(true)
    await sb?.stop()
  })

  it('1 retained messages: kept per topic at QoS 0/1/2, delivered to a wildcard, cleared when empty', async () => {
    await cleanup()
    const a = await open('myclientid')
    await a.publishAsync(TOPICS[1] as string, 'qos 0', { qos: 0, retain: true })
    await a.publishAsync(TOPICS[2] as string, 'qos 1', { qos: 1, retain: true })
    await a.publishAsync(TOPICS[3] as string, 'qos 2', { qos: 2, retain: true })
    await sleep(200)
    const got = received(a)
    await a.subscribeAsync(WILDTOPICS[5] as string, { qos: 2 })
    await expect.poll(() => got.length).toBe(3)
    expect(got.every((m) => m.retain)).toBe(true)
    for (const t of TOPICS.slice(1, 4)) await a.publishAsync(t, '', { qos: 1, retain: true })
    a.end(true)
    const b = await open('myclientid2')
    const again = received(b)
    await b.subscribeAsync(WILDTOPICS[5] as string, { qos: 2 })
    await sleep(300)
    expect(again).toEqual([])
  })

  it('2 zero-length client id: refused with CleanSession=0 (CONNACK 2), accepted with CleanSession=1', async () => {
    // mqtt.js will not send this CONNECT at all, so it goes out as raw bytes.
    const raw = await rawConnect(Number(new URL(sb.mqttUrl).port))
    raw.socket.write(connectWithLogin('', false))
    expect([...(await raw.next())]).toEqual([0x20, 2, 0, 2])
    await raw.closed
    const ok = await open('', { clean: true })
    expect(ok.connected).toBe(true)
  })

  it('3 will message: published when its client drops without DISCONNECT', async () => {
    await cleanup()
    const watcher = await open('myclientid2')
    const got = received(watcher)
    await watcher.subscribeAsync(TOPICS[2] as string, { qos: 2 })
    const dying = await open('myclientid', {
      keepalive: 2,
      will: { topic: TOPICS[2] as string, payload: Buffer.from('client not disconnected'), qos: 0, retain: false },
    })
    dying.stream.destroy()
    await expect.poll(() => got.map((m) => m.payload), { timeout: 5000 }).toEqual(['client not disconnected'])
  })

  it('4 offline message queueing: a persistent session gets the QoS 1 and 2 messages sent meanwhile', async () => {
    await cleanup()
    const a = await open('myclientid', { clean: false })
    await a.subscribeAsync(WILDTOPICS[5] as string, { qos: 2 })
    await a.endAsync()
    const b = await open('myclientid2')
    await b.publishAsync(TOPICS[1] as string, 'qos 0', { qos: 0 })
    await b.publishAsync(TOPICS[2] as string, 'qos 1', { qos: 1 })
    await b.publishAsync(TOPICS[3] as string, 'qos 2', { qos: 2 })
    await sleep(200)
    const got = resume('myclientid')
    // QoS 0 may or may not be queued ([MQTT-3.1.2-5]); QoS 1 and 2 must be.
    await expect
      .poll(() =>
        got
          .map((m) => m.payload)
          .filter((p) => p !== 'qos 0')
          .sort(),
      )
      .toEqual(['qos 1', 'qos 2'])
  })

  it('5 overlapping subscriptions: one message at the highest QoS granted, or once per subscription', async () => {
    await cleanup()
    const a = await open('myclientid')
    const got = received(a)
    await a.subscribeAsync({ [WILDTOPICS[6] as string]: { qos: 2 }, [WILDTOPICS[0] as string]: { qos: 1 } })
    await a.publishAsync(TOPICS[3] as string, 'overlapping topic filters', { qos: 2 })
    await expect.poll(() => got.length).toBeGreaterThan(0)
    await sleep(200)
    const qos = got.map((m) => m.qos).sort()
    expect(qos.length === 1 ? qos[0] === 2 : qos.join() === '1,2').toBe(true)
  })

  it('6 keepalive: a silent client is dropped after 1.5 × its keepalive and its will goes out', async () => {
    await cleanup()
    const watcher = await open('myclientid2')
    const got = received(watcher)
    await watcher.subscribeAsync(TOPICS[4] as string, { qos: 2 })
    const silent = await open('myclientid', {
      keepalive: 2,
      will: { topic: TOPICS[4] as string, payload: Buffer.from('keepalive expiry'), qos: 0, retain: false },
    })
    // Stop every outgoing packet, PINGREQ included, without closing the socket.
    silent.stream.write = (() => true) as typeof silent.stream.write
    await expect.poll(() => got.map((m) => m.payload), { timeout: 6000, interval: 200 }).toEqual(['keepalive expiry'])
  }, 10_000)

  it('7 redelivery on reconnect: unacknowledged QoS 1 and 2 messages come again to the resumed session', async () => {
    await cleanup()
    const a = await open('myclientid', { clean: false })
    await a.subscribeAsync(WILDTOPICS[6] as string, { qos: 2 })
    // Take the messages but never acknowledge them.
    let unacked = 0
    a.handleMessage = (_packet, _callback) => {
      unacked++
    }
    const b = await open('myclientid2')
    await b.publishAsync(TOPICS[1] as string, 'qos 1', { qos: 1 })
    await b.publishAsync(TOPICS[3] as string, 'qos 2', { qos: 2 })
    // mqtt.js reads the next packet only once the last is handled: the second waits unread, unacknowledged too.
    await expect.poll(() => unacked).toBe(1)
    await sleep(200)
    a.stream.destroy()
    await sleep(300)
    const got = resume('myclientid')
    await expect.poll(() => got.map((m) => m.payload).sort()).toEqual(['qos 1', 'qos 2'])
  })

  it('8 subscribe failure: a refused filter gets 0x80 in SUBACK and the connection stays', async () => {
    await cleanup()
    const a = await open('myclientid')
    const granted = await a
      .subscribeAsync(NOSUBSCRIBE, { qos: 2 })
      .catch((e: { packet?: { granted?: number[] } }) => (e.packet?.granted ?? []).map((qos) => ({ qos })))
    expect(granted.map((g) => g.qos)).toEqual([0x80])
    await a.publishAsync(TOPICS[0] as string, 'still here', { qos: 1 })
    expect(a.connected).toBe(true)
  })

  it('9 $ topics: a # subscription does not receive topics starting with $', async () => {
    await cleanup()
    const a = await open('myclientid')
    const got = received(a)
    await a.subscribeAsync(WILDTOPICS[2] as string, { qos: 2 })
    await a.publishAsync(`$${TOPICS[1]}`, 'dollar', { qos: 1 })
    await a.publishAsync(TOPICS[1] as string, 'plain', { qos: 1 })
    await expect.poll(() => got.some((m) => m.payload === 'plain')).toBe(true)
    expect(got.filter((m) => m.topic.startsWith('$'))).toEqual([])
    expect(a.connected).toBe(true)
  })

  it('10 unsubscribe: only the filters still subscribed deliver', async () => {
    await cleanup()
    const a = await open('myclientid')
    const got = received(a)
    await a.subscribeAsync({
      [TOPICS[1] as string]: { qos: 2 },
      [TOPICS[2] as string]: { qos: 2 },
      [TOPICS[3] as string]: { qos: 2 },
    })
    await a.unsubscribeAsync(TOPICS[1] as string)
    await a.unsubscribeAsync(TOPICS[2] as string)
    const b = await open('myclientid2')
    for (const t of TOPICS.slice(1, 4)) await b.publishAsync(t, t, { qos: 1 })
    await expect.poll(() => got.map((m) => m.topic)).toEqual([TOPICS[3]])
    await sleep(200)
    expect(got.map((m) => m.topic)).toEqual([TOPICS[3]])
  })
})

/** CONNECT (3.1.1) with the interop user's login. */
function connectWithLogin(clientId: string, clean: boolean): Buffer {
  const str = (v: string) => {
    const b = Buffer.from(v)
    const l = Buffer.alloc(2)
    l.writeUInt16BE(b.length)
    return Buffer.concat([l, b])
  }
  const flags = 0xc0 | (clean ? 0x02 : 0)
  const body = Buffer.concat([
    str('MQTT'),
    Buffer.from([4, flags, 0, 30]),
    str(clientId),
    str('interop'),
    str(PASSWORD),
  ])
  return Buffer.concat([Buffer.from([0x10, body.length]), body])
}
