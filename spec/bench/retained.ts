/**
 * SUBSCRIBE cost with many retained messages. Aedes answers every SUBSCRIBE by reading *all*
 * retained messages and testing each against the new filter (aedes-persistence-level: a LevelDB scan
 * with msgpack decoding; in-memory: a Map walk). SUBACK is written before that scan starts, so the
 * scan shows up as (a) the time until a retained value arrives, (b) server CPU per SUBSCRIBE, and
 * (c) what a burst of subscribers (a reconnect storm) does to everybody else.
 */
import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import type { MqttClient } from 'mqtt'
import { connectMqtt, sleep, type Probe } from './load.js'
import { quantile } from './stats.js'

export interface RetainedTarget {
  url: string
  /** Topics holding a retained message; the storm spreads its subscribers over them. */
  keyTopics: string[]
  /** The retained topic read last by the scan (LevelDB key order = topic order; Map = insertion order). */
  lastKeyTopic: string
  /** Filter that matches every mirrored key, and how many retained messages it should yield. */
  wildcard: string
  wildcardCount: number
  /** sensebus targets: a kv/get to time while the storm runs. */
  kvProbe?: { namespace: string; key: string }
}

export interface RetainedOptions {
  samples: number
  stormSubscribers: number
  timeoutMs: number
}

export interface RetainedResult {
  /** Fresh connection, SUBSCRIBE to a topic with no retained message → SUBACK. */
  subackUnrelatedP50: number
  /** Fresh connection, SUBSCRIBE to the key read last → its retained value arrives (≈ one full scan). */
  keyRetainedP50: number
  keyRetainedMax: number
  /** Server CPU per fresh connection + SUBSCRIBE + scan + disconnect, ms (key topic / unrelated topic). */
  serverCpuMsPerSubscribe: number
  serverCpuMsPerUnrelatedSubscribe: number
  /** `stormSubscribers` pre-connected clients subscribe at once → all have their retained value. */
  stormMs: number
  /** kv/get round trips measured on another connection while the storm ran. */
  stormKvGetP50: number
  stormKvGetMax: number
  stormKvGetCount: number
  /** One client subscribes the wildcard → all retained messages arrived. */
  wildcardMs: number
  wildcardReceived: number
}

function firstMessage(client: MqttClient, topic: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no retained message on ${topic} within ${timeoutMs} ms`)),
      timeoutMs,
    )
    client.once('message', () => {
      clearTimeout(timer)
      resolve(performance.now())
    })
  })
}

export async function retainedSubscribe(
  target: RetainedTarget,
  opts: RetainedOptions,
  probe: Probe,
): Promise<RetainedResult> {
  // (1) Unrelated topic: SUBACK latency. Gaps let the previous subscriber's scan finish first, and
  // the CPU over the loop shows that an unrelated SUBSCRIBE pays for the scan too.
  const unrelated: number[] = []
  const u0 = await probe()
  for (let i = 0; i < opts.samples; i++) {
    const c = await connectMqtt(target.url)
    const t0 = performance.now()
    await c.subscribeAsync(`bench/unrelated/${randomUUID()}`, { qos: 1 })
    unrelated.push(performance.now() - t0)
    c.end(true)
    await sleep(100)
  }
  const u1 = await probe()

  // (2) The last key in scan order: SUBSCRIBE → retained value ≈ one full scan. CPU over these samples.
  const keyTimes: number[] = []
  const cpu0 = await probe()
  for (let i = 0; i < opts.samples; i++) {
    const c = await connectMqtt(target.url)
    const t0 = performance.now()
    const got = firstMessage(c, target.lastKeyTopic, opts.timeoutMs)
    await c.subscribeAsync(target.lastKeyTopic, { qos: 1 })
    keyTimes.push((await got) - t0)
    c.end(true)
  }
  await sleep(100)
  const cpu1 = await probe()

  // (3) Storm: subscribers connected beforehand, SUBSCRIBE all at once; meanwhile time kv/get.
  const storm: MqttClient[] = []
  let stormMs = Number.NaN
  const kvLatencies: number[] = []
  try {
    for (let i = 0; i < opts.stormSubscribers; i += 25) {
      await Promise.all(
        Array.from({ length: Math.min(25, opts.stormSubscribers - i) }, async () =>
          storm.push(await connectMqtt(target.url)),
        ),
      )
    }
    const prober = target.kvProbe ? await connectMqtt(target.url) : undefined
    let stormDone = false
    const probing = (async () => {
      if (!prober || !target.kvProbe) return
      await prober.subscribeAsync('sense/response/kv/get', { qos: 1 })
      await sleep(50)
      let n = 0
      while (!stormDone) {
        const tx = `probe-${++n}`
        const t0 = performance.now()
        const answered = new Promise<void>((resolve) => {
          const onMsg = (_t: string, p: Buffer) => {
            if ((JSON.parse(p.toString()) as { transaction?: string }).transaction !== tx) return
            prober.off('message', onMsg)
            resolve()
          }
          prober.on('message', onMsg)
        })
        prober.publish('sense/request/kv/get', JSON.stringify({ ...target.kvProbe, transaction: tx }), { qos: 1 })
        await Promise.race([answered, sleep(opts.timeoutMs)])
        kvLatencies.push(performance.now() - t0)
      }
    })()
    await sleep(target.kvProbe ? 150 : 0)
    const t0 = performance.now()
    const arrivals = storm.map((c, i) => {
      const topic = target.keyTopics[i % target.keyTopics.length] as string
      const got = firstMessage(c, topic, opts.timeoutMs)
      c.subscribe(topic, { qos: 1 })
      return got
    })
    stormMs = Math.max(...(await Promise.all(arrivals))) - t0
    stormDone = true
    await probing
    prober?.end(true)
  } finally {
    for (const c of storm) c.end(true)
  }
  await sleep(200)

  // (4) Wildcard over every mirrored key.
  const w = await connectMqtt(target.url)
  let received = 0
  let wildcardMs = Number.NaN
  try {
    const t0 = performance.now()
    const all = new Promise<void>((resolve) => {
      w.on('message', () => {
        if (++received === target.wildcardCount) resolve()
      })
    })
    await w.subscribeAsync(target.wildcard, { qos: 1 })
    await Promise.race([all, sleep(opts.timeoutMs)])
    if (received >= target.wildcardCount) wildcardMs = performance.now() - t0
  } finally {
    w.end(true)
  }
  await sleep(200)

  return {
    subackUnrelatedP50: quantile(unrelated, 0.5),
    keyRetainedP50: quantile(keyTimes, 0.5),
    keyRetainedMax: quantile(keyTimes, 1),
    serverCpuMsPerSubscribe: (cpu1.cpuUs - cpu0.cpuUs) / 1000 / opts.samples,
    serverCpuMsPerUnrelatedSubscribe: (u1.cpuUs - u0.cpuUs) / 1000 / opts.samples,
    stormMs,
    stormKvGetP50: quantile(kvLatencies, 0.5),
    stormKvGetMax: quantile(kvLatencies, 1),
    stormKvGetCount: kvLatencies.length,
    wildcardMs,
    wildcardReceived: received,
  }
}
