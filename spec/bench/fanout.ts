/**
 * Fan-out: one publisher, N subscribers on one topic, all mqtt.js connections in the load process.
 * Two measurements per QoS:
 * - single messages, one at a time: publish → every subscriber has it ("time to all");
 * - a burst published back to back: deliveries per second until every subscriber has every message.
 */
import { performance } from 'node:perf_hooks'
import type { MqttClient } from 'mqtt'
import { connectMqtt, sleep, type Probe } from './load.js'
import { quantile } from './stats.js'

export interface FanoutOptions {
  subscribers: number
  /** Sequential single messages per QoS. */
  singles: number
  /** Messages in the burst per QoS. */
  burst: number
  /** Give up waiting for one message (or the burst) after this long. */
  timeoutMs: number
}

export interface FanoutQosResult {
  qos: 0 | 1
  /** Publish → last subscriber received it (median and worst over the singles). */
  timeToAllP50: number
  timeToAllMax: number
  /** Publish → first subscriber received it (median). */
  timeToFirstP50: number
  /** Burst: deliveries per second and the time until all of them arrived. */
  burstDeliveriesPerSec: number
  burstMs: number
  /** Deliveries that never arrived within the timeout (should be 0). */
  missing: number
  serverCpuUsPerDelivery: number
}

export interface FanoutResult {
  /** CONNECT + SUBSCRIBE of all subscribers, 50 at a time. */
  connectMs: number
  byQos: FanoutQosResult[]
}

const PAYLOAD_BYTES = 100

export async function fanout(url: string, tag: string, opts: FanoutOptions, probe: Probe): Promise<FanoutResult> {
  const topic = (qos: number) => `bench/fanout/${tag}/q${qos}`
  const n = opts.subscribers
  const maxSeq = 2 * (opts.singles + opts.burst) + 1
  const counts = new Uint32Array(maxSeq)
  const firstAt = new Float64Array(maxSeq)
  const allAt = new Float64Array(maxSeq)
  const waiters = new Map<number, () => void>()

  const onMessage = (_topic: string, payload: Buffer) => {
    const seq = payload.readUInt32BE(0)
    const c = ++counts[seq]!
    if (c === 1) firstAt[seq] = performance.now()
    if (c === n) {
      allAt[seq] = performance.now()
      waiters.get(seq)?.()
    }
  }

  const subs: MqttClient[] = []
  const publisher = await connectMqtt(url)
  try {
    const t0 = performance.now()
    for (let i = 0; i < n; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, n - i) }, async () => {
          const c = await connectMqtt(url)
          subs.push(c)
          c.on('message', onMessage)
          await c.subscribeAsync({ [topic(0)]: { qos: 0 }, [topic(1)]: { qos: 1 } })
        }),
      )
    }
    const connectMs = performance.now() - t0
    await sleep(200)

    let seq = 1
    const payloadOf = (s: number) => {
      const b = Buffer.alloc(PAYLOAD_BYTES, 0x2e)
      b.writeUInt32BE(s, 0)
      return b
    }
    const whenAll = (s: number) =>
      counts[s] === n
        ? Promise.resolve(true)
        : Promise.race([
            new Promise<boolean>((r) => waiters.set(s, () => r(true))),
            sleep(opts.timeoutMs).then(() => false),
          ]).finally(() => waiters.delete(s))

    const byQos: FanoutQosResult[] = []
    for (const qos of [0, 1] as const) {
      const toAll: number[] = []
      const toFirst: number[] = []
      let missing = 0
      for (let i = 0; i < opts.singles; i++) {
        const s = seq++
        const sent = performance.now()
        publisher.publish(topic(qos), payloadOf(s), { qos })
        if (!(await whenAll(s))) {
          missing += n - counts[s]!
          continue
        }
        toAll.push(allAt[s]! - sent)
        toFirst.push(firstAt[s]! - sent)
      }

      const first = seq
      seq += opts.burst
      const cpu0 = await probe()
      const sent = performance.now()
      for (let s = first; s < seq; s++) publisher.publish(topic(qos), payloadOf(s), { qos })
      const deadline = sent + opts.timeoutMs
      let last = 0
      for (let s = first; s < seq; s++) {
        if (!(await whenAll(s)) || performance.now() > deadline) {
          for (let r = s; r < seq; r++) missing += n - counts[r]!
          last = Number.NaN
          break
        }
        last = Math.max(last, allAt[s]!)
      }
      const cpu1 = await probe()
      const burstMs = last - sent
      const delivered = opts.burst * n
      byQos.push({
        qos,
        timeToAllP50: quantile(toAll, 0.5),
        timeToAllMax: quantile(toAll, 1),
        timeToFirstP50: quantile(toFirst, 0.5),
        burstDeliveriesPerSec: (delivered * 1000) / burstMs,
        burstMs,
        missing,
        serverCpuUsPerDelivery: (cpu1.cpuUs - cpu0.cpuUs) / delivered,
      })
      await sleep(200)
    }
    return { connectMs, byQos }
  } finally {
    for (const c of subs) c.end(true)
    publisher.end(true)
    // Let the broker process the disconnects before the next measurement starts.
    await sleep(500)
  }
}
