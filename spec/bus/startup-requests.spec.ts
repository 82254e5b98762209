import { Type } from '@sinclair/typebox'
import mqtt from 'mqtt'
import { describe, expect, it } from 'vitest'
import { modules } from '../../src/capabilities/index.js'
import { defineCapability, defineModule } from '../../src/core/capability.js'
import { closed, section } from '../../src/core/schema.js'
import { startTestApp } from '../helpers/app.js'
import { freePort } from '../helpers/ports.js'

/** A module whose setup waits until the spec lets it go: start-up held open as long as needed. */
function gateModule() {
  let open: () => void = () => undefined
  const gate = new Promise<void>((r) => {
    open = r
  })
  let reached: () => void = () => undefined
  const setupReached = new Promise<void>((r) => {
    reached = r
  })
  const module = defineModule({
    area: 'gate',
    summary: 'holds start-up until released',
    configSchema: section({}),
    // A module without capabilities is not set up at all.
    capabilities: [
      defineCapability({
        name: 'gate/noop',
        summary: 'nothing',
        request: closed({}),
        result: Type.Object({}),
        handle: async () => ({}),
      }),
    ],
    async setup() {
      reached()
      await gate
      return undefined
    },
  })
  return { module, open, setupReached }
}

describe('requests sent while sensebus starts', () => {
  it('are answered exactly once: the MQTT port opens only when requests are answered', async () => {
    const port = await freePort()
    const gate = gateModule()
    const starting = startTestApp({ modules: [...modules, gate.module], overrides: { 'broker.mqtt.port': port } })
    // A start-up that fails must fail the spec, not leave it waiting for the gate.
    await Promise.race([gate.setupReached, starting.then(() => Promise.reject(new Error('started past the gate')))])

    // A client that keeps trying, and sends its request the moment it gets in.
    const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 50, connectTimeout: 2000 })
    const answers: string[] = []
    client.on('message', (_topic, payload) => answers.push(payload.toString()))
    client.once('connect', () => {
      client.subscribe('sense/response/util/ping', { qos: 1 }, () => {
        client.publish('sense/request/util/ping', JSON.stringify({ transaction: 'early' }), { qos: 1 })
      })
    })
    try {
      await new Promise((r) => setTimeout(r, 400))
      // Had the port been open, the broker would have acknowledged the request with nobody to answer it.
      expect(client.connected).toBe(false)

      gate.open()
      const app = await starting
      try {
        await expect.poll(() => answers.length, { timeout: 10_000 }).toBe(1)
        await new Promise((r) => setTimeout(r, 300))
        expect(answers.map((a) => JSON.parse(a) as Record<string, unknown>)).toEqual([
          expect.objectContaining({ transaction: 'early', status: 'ok' }),
        ])
      } finally {
        await app.stop({ clean: true })
      }
    } finally {
      client.end(true)
    }
  })
})
