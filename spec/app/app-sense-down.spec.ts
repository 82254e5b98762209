import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningSimulator } from '../../src/sim/index.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { connect, type TestClient } from '../helpers/client.js'
import { call, expectButlerError } from '../http/http-helpers.js'
import { IDS, senseOverrides, startTestSim, tempCertDir } from '../sim/sim-harness.js'

const certDir = tempCertDir('app-down')
let sim: RunningSimulator
let sb: TestApp
let client: TestClient

beforeAll(async () => {
  sim = await startTestSim(certDir, 9, { faults: { engineReloadMs: 5_000 } })
  sb = await startTestApp({
    overrides: {
      ...senseOverrides(sim, certDir),
      'sense.qrs.retries': 0,
    },
  })
  client = await connect(sb.mqttUrl)
})
afterAll(async () => {
  await client?.end()
  await sb?.stop({ clean: true })
  await sim?.close()
})

describe('Sense goes down in the middle of a request', () => {
  it('a running reload fails with SENSE_UNREACHABLE, and later requests say so too', async () => {
    const running = client.request('app/reload', { appId: IDS.salesApp, wait: true }, { timeoutMs: 10_000 })
    await expect.poll(() => sim.recorder.list('engine').some((c) => c.method === 'DoReload')).toBe(true)
    await sim.close()
    const res = await running
    expect(res.status === 'error' && res.error.code).toBe('SENSE_UNREACHABLE')

    const list = await client.request('app/list', {}, { timeoutMs: 10_000 })
    expect(list.status === 'error' && list.error.code).toBe('SENSE_UNREACHABLE')
    const dump = await client.request('app/dump', { appId: IDS.salesApp }, { timeoutMs: 10_000 })
    expect(dump.status === 'error' && dump.error.code).toBe('SENSE_UNREACHABLE')
    // Butler answers its Sense failures with 500.
    expectButlerError(await call(sb.httpUrl, 'GET', '/v4/apps/list', { timeoutMs: 10_000 }), 500)
    expectButlerError(await call(sb.httpUrl, 'GET', `/v4/app/${IDS.salesApp}/dump`, { timeoutMs: 10_000 }), 500)
  })
})
