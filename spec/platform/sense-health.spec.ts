import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningSimulator } from '../../src/sim/index.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { connect } from '../helpers/client.js'
import { senseOverrides, startTestSim, tempCertDir } from '../sim/sim-harness.js'

describe('the Sense health probe', () => {
  const certDir = tempCertDir('health')
  let sim: RunningSimulator
  let sb: TestApp

  beforeAll(async () => {
    sim = await startTestSim(certDir, 9)
    sb = await startTestApp({
      overrides: {
        ...senseOverrides(sim, certDir),
        'sense.healthIntervalMs': 150,
      },
    })
  })
  afterAll(async () => {
    await sb?.stop({ clean: true })
    await sim?.close()
  })

  it('moves sense/bridge/state to degraded while the simulator is down, and back to online', async () => {
    const client = await connect(sb.mqttUrl)
    const states = await client.collect('sense/bridge/state')
    const last = () =>
      states.length ? (JSON.parse(states[states.length - 1]?.payload ?? '{}') as { state: string }).state : ''
    await expect.poll(last).toBe('online')

    const { qrsPort, enginePort } = sim.settings
    await sim.close()
    await expect.poll(last, { timeout: 5000 }).toBe('degraded')
    expect(sb.app.health.snapshot()).toEqual(
      expect.arrayContaining([expect.objectContaining({ component: 'sense', status: 'degraded' })]),
    )

    sim = await startTestSim(certDir, 9, { qrsPort, enginePort })
    await expect.poll(last, { timeout: 5000 }).toBe('online')
    await client.end()
  })
})
