import { randomUUID } from 'node:crypto'
import type { Socket } from 'node:net'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import type { Envelope } from '../../src/core/envelope.js'
import { topicMatches } from '../../src/core/topics.js'

export interface TestClient {
  mqtt: MqttClient
  /** Publishes a request and resolves with the envelope on its response topic matching the transaction. */
  request<T = unknown>(
    capability: string,
    body?: Record<string, unknown>,
    opts?: { timeoutMs?: number },
  ): Promise<Envelope<T>>
  /** Publishes raw bytes to a request topic and resolves with the next envelope on its response topic. */
  raw(capability: string, payload: string | Buffer, opts?: { timeoutMs?: number }): Promise<Envelope>
  /** Collects messages on a filter. */
  collect(filter: string): Promise<Array<{ topic: string; payload: string; retain: boolean }>>
  end(): Promise<void>
}

export async function connect(url: string, opts: IClientOptions = {}): Promise<TestClient> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts })
  ;(client.stream as Partial<Socket>).setNoDelay?.(true)
  const waiters = new Set<{ topic: string; match: (env: Envelope) => boolean; resolve: (e: Envelope) => void }>()
  const collectors = new Map<string, Array<{ topic: string; payload: string; retain: boolean }>>()
  client.on('message', (topic, payload, packet) => {
    for (const [filter, list] of collectors)
      if (topicMatches(filter, topic)) list.push({ topic, payload: payload.toString(), retain: packet.retain })
    let env: Envelope
    try {
      env = JSON.parse(payload.toString()) as Envelope
    } catch {
      return
    }
    for (const w of waiters) {
      if (w.topic === topic && w.match(env)) {
        waiters.delete(w)
        w.resolve(env)
        return
      }
    }
  })
  const subscribed = new Set<string>()
  const ensure = async (topic: string) => {
    if (subscribed.has(topic)) return
    await client.subscribeAsync(topic, { qos: 1 })
    subscribed.add(topic)
  }
  const wait = (topic: string, match: (e: Envelope) => boolean, timeoutMs: number) =>
    new Promise<Envelope>((resolve, reject) => {
      const w = { topic, match, resolve }
      waiters.add(w)
      setTimeout(() => {
        if (waiters.delete(w)) reject(new Error(`no response on ${topic} within ${timeoutMs} ms`))
      }, timeoutMs)
    })
  return {
    mqtt: client,
    async request(capability, body = {}, { timeoutMs = 5000 } = {}) {
      const transaction = String(body.transaction ?? randomUUID())
      const topic = typeof body.replyTo === 'string' ? body.replyTo : `sense/response/${capability}`
      await ensure(topic)
      const answer = wait(topic, (e) => e.transaction === transaction, timeoutMs)
      await client.publishAsync(`sense/request/${capability}`, JSON.stringify({ ...body, transaction }), { qos: 1 })
      return answer as Promise<Envelope<never>>
    },
    async raw(capability, payload, { timeoutMs = 5000 } = {}) {
      const topic = `sense/response/${capability}`
      await ensure(topic)
      const answer = wait(topic, () => true, timeoutMs)
      await client.publishAsync(`sense/request/${capability}`, payload, { qos: 1 })
      return answer
    },
    async collect(filter) {
      const list: Array<{ topic: string; payload: string; retain: boolean }> = []
      collectors.set(filter, list)
      await client.subscribeAsync(filter, { qos: 1 })
      return list
    },
    end: () => client.endAsync(),
  }
}
