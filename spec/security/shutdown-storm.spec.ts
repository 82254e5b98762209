import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer } from '../helpers/process.js'

interface Tally {
  acknowledged: Set<string>
  answers: Map<string, string[]>
}

/**
 * Streams util/ping at QoS 1 until the connection goes, counting PUBACKs and answers by
 * transaction. A PUBACK means the broker took the request: it must then get exactly one answer.
 */
async function flood(url: string, name: string, tally: Tally, firstAnswer: () => void): Promise<void> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, clientId: name })
  client.on('message', (_topic, payload) => {
    const env = JSON.parse(payload.toString()) as { transaction?: string; status: string; error?: { code: string } }
    if (typeof env.transaction !== 'string' || !env.transaction.startsWith(name)) return
    const list = tally.answers.get(env.transaction) ?? []
    list.push(env.status === 'ok' ? 'ok' : (env.error?.code ?? 'error'))
    tally.answers.set(env.transaction, list)
    firstAnswer()
  })
  await client.subscribeAsync('sense/response/util/ping', { qos: 1 })
  let next = 0
  await new Promise<void>((resolve) => {
    let closed = false
    client.once('close', () => {
      closed = true
      resolve()
    })
    const send = () => {
      if (closed) return
      const transaction = `${name}-${next++}`
      client.publish('sense/request/util/ping', JSON.stringify({ transaction }), { qos: 1 }, (err) => {
        if (!err) tally.acknowledged.add(transaction)
        setImmediate(send)
      })
    }
    for (let i = 0; i < 8; i++) send()
  })
  client.end(true)
}

describe('shutdown under a request storm', () => {
  let dataDir: string
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sensebus-storm-'))
  })
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true })
  })

  it('answers every request it acknowledged, exactly once, across SIGTERMs mid-flood', async () => {
    let acknowledged = 0
    for (let cycle = 0; cycle < 3; cycle++) {
      const proc = await startServer(['--data-dir', dataDir, '--log-level', 'info'])
      const tally: Tally = { acknowledged: new Set(), answers: new Map() }
      let started: () => void = () => undefined
      const answering = new Promise<void>((resolve) => (started = resolve))
      const floods = [0, 1, 2].map((i) => flood(proc.mqttUrl, `storm${cycle}c${i}`, tally, () => started()))
      await answering
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 300)))
      proc.child.kill('SIGTERM')
      expect(await proc.exited).toBe(0)
      await Promise.all(floods)
      const unanswered = [...tally.acknowledged].filter((t) => !tally.answers.has(t))
      const repeated = [...tally.answers].filter(([, a]) => a.length > 1)
      const outcomes = new Set([...tally.answers.values()].flat())
      expect({ cycle, unanswered: unanswered.slice(0, 5), repeated: repeated.slice(0, 5) }).toEqual({
        cycle,
        unanswered: [],
        repeated: [],
      })
      expect([...outcomes].filter((o) => !['ok', 'SHUTTING_DOWN', 'BUSY'].includes(o))).toEqual([])
      acknowledged += tally.acknowledged.size
    }
    expect(acknowledged).toBeGreaterThan(100)
  }, 90_000)
})
