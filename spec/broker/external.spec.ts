import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect } from '../helpers/client.js'
import { startInMode, type ModeApp } from '../helpers/modes.js'

describe('external-broker mode (Mosquitto)', () => {
  let sb: ModeApp
  beforeAll(async () => {
    sb = await startInMode('external (mosquitto)')
  })
  afterAll(async () => {
    await sb?.stop({ clean: true })
  })

  it('starts no embedded listener of its own', () => {
    expect(sb.app.endpoints.mqtt).toBeUndefined()
    expect(sb.app.endpoints.brokerUrl).toBe(sb.mosquitto!.url)
  })

  it('republishes retained bridge state and info after the broker restarts, and serves requests again', async () => {
    await sb.mosquitto!.restart()
    // Mosquitto ran without persistence: anything retained now was published after the restart.
    const c = await connect(sb.mqttUrl)
    const bridge = await c.collect('sense/bridge/#')
    await expect
      .poll(() => bridge.map((m) => m.topic).sort(), { timeout: 10_000 })
      .toEqual(['sense/bridge/info', 'sense/bridge/state'])
    expect(JSON.parse(bridge.find((m) => m.topic === 'sense/bridge/state')!.payload)).toEqual({ state: 'online' })
    await expect
      .poll(
        async () => (await c.request('util/ping', {}, { timeoutMs: 1000 }).catch(() => ({ status: 'none' }))).status,
        { timeout: 10_000 },
      )
      .toBe('ok')
    await c.end()
  }, 30_000)
})
