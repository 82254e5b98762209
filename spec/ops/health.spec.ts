import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningSimulator } from '../../src/sim/index.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { senseOverrides, startTestSim, tempCertDir } from '../sim/sim-harness.js'

interface Report {
  status: string
  live: boolean
  ready: boolean
  components: Record<string, { status: string; detail?: string }>
}

const getHealth = async (url: string, path = '/health') => {
  const res = await fetch(`${url}${path}`)
  return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as Report }
}

describe('GET /health without Sense configured', () => {
  let sb: TestApp
  beforeAll(async () => {
    sb = await startTestApp()
  })
  afterAll(() => sb?.stop({ clean: true }))

  it('answers 200 ready, with the broker and store probed and Sense unconfigured', async () => {
    const { status, type, body } = await getHealth(sb.httpUrl)
    expect(status).toBe(200)
    expect(type).toMatch(/^application\/json/)
    expect(body).toMatchObject({
      status: 'ok',
      live: true,
      ready: true,
      components: { broker: { status: 'ok' }, store: { status: 'ok' }, sense: { status: 'unconfigured' } },
    })
  })

  it('answers liveness on /health/live without probing anything', async () => {
    const { status, body } = await getHealth(sb.httpUrl, '/health/live')
    expect(status).toBe(200)
    expect(body).toEqual({ live: true })
  })
})

describe('GET /health follows Sense reachability', () => {
  const certDir = tempCertDir('ops-health')
  let sim: RunningSimulator
  let lenient: TestApp
  let strict: TestApp

  beforeAll(async () => {
    sim = await startTestSim(certDir, 9)
    const sense = { ...senseOverrides(sim, certDir), 'sense.healthIntervalMs': 150 }
    lenient = await startTestApp({ overrides: sense })
    strict = await startTestApp({ overrides: { ...sense, 'http.health.senseRequired': true } })
  })
  afterAll(async () => {
    await lenient?.stop({ clean: true })
    await strict?.stop({ clean: true })
    await sim?.close()
  })

  it('is 200 while Sense answers, then degraded (200) or 503 when Sense is required', async () => {
    await expect.poll(async () => (await getHealth(strict.httpUrl)).body.components.sense?.status).toBe('ok')
    expect((await getHealth(strict.httpUrl)).status).toBe(200)

    await sim.close()
    await expect
      .poll(async () => (await getHealth(strict.httpUrl)).body.components.sense?.status, { timeout: 5000 })
      .toBe('degraded')
    const required = await getHealth(strict.httpUrl)
    expect(required.status).toBe(503)
    expect(required.body).toMatchObject({ status: 'down', ready: false, live: true })

    await expect.poll(async () => (await getHealth(lenient.httpUrl)).body.status, { timeout: 5000 }).toBe('degraded')
    const optional = await getHealth(lenient.httpUrl)
    expect(optional.status).toBe(200)
    expect(optional.body.ready).toBe(true)
    expect(optional.body.components.sense?.detail).toBeTruthy()
  })
})
