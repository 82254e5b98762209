import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningSimulator } from '../../src/sim/index.js'
import { IDS, qrs, startTestSim, tempCertDir, udpReceiver, type UdpReceiver } from './sim-harness.js'

let sim: RunningSimulator
let udp: UdpReceiver

beforeAll(async () => {
  udp = await udpReceiver()
  sim = await startTestSim(tempCertDir('vp'), udp.port, {
    virtualProxy: { port: 0, prefix: 'hdr', header: 'X-Sense-User', userDirectory: 'LAB' },
    // The other readings of two unconfirmed details (src/sim/unconfirmed.ts).
    unconfirmed: { qrs: { noClientCertPolicy: 'http-403', missingUserBehaviour: 'default' } },
  })
})
afterAll(async () => {
  await sim.close()
  await udp.close()
})

const viaProxy = (path: string, headers: Record<string, string>, xrfkey?: null) =>
  qrs(sim, path, { port: sim.settings.virtualProxy!.port, cert: 'none', user: null, headers, xrfkey })

describe('virtual proxy with header authentication (QLIK-PROTOCOLS §1.4)', () => {
  it('serves /<prefix>/qrs/... as the header user and sets a session cookie', async () => {
    const res = await viaProxy('/hdr/qrs/about', { 'X-Sense-User': 'goran' })
    expect(res.status).toBe(200)
    expect(String(res.headers['set-cookie'])).toMatch(/^X-Qlik-Session-hdr=/)
    expect(sim.recorder.list('qrs').at(-1)).toMatchObject({ path: '/hdr/qrs/about', user: 'LAB\\goran', status: 200 })
  })

  it('refuses a missing header, a missing xrfkey and a path without the prefix', async () => {
    expect((await viaProxy('/hdr/qrs/about', {})).status).toBe(403)
    const noKey = await viaProxy('/hdr/qrs/about', { 'X-Sense-User': 'goran' }, null)
    expect([noKey.status, noKey.body]).toEqual([403, 'XSRF prevention check failed. Possible XSRF discovered.'])
    expect((await viaProxy('/qrs/about', { 'X-Sense-User': 'goran' })).status).toBe(404)
  })
})

describe('alternative unconfirmed readings on the direct port (§1.2)', () => {
  it("'http-403': a client without certificate completes TLS and gets 403", async () => {
    const res = await qrs(sim, '/qrs/about', { cert: 'none' })
    expect([res.status, res.body]).toEqual([403, 'Client certificate required'])
  })

  it("'default': no X-Qlik-User runs as INTERNAL\\sa_repository", async () => {
    sim.executor.setBehaviour(IDS.userSyncTask, { durationMs: 10 })
    expect((await qrs(sim, `/qrs/task/${IDS.userSyncTask}/start`, { method: 'POST', user: null })).status).toBe(204)
    expect((await udp.next()).toString('utf8').split(';')[4]).toBe('INTERNAL\\sa_repository')
  })
})

describe('POST /qrs/app/{id}/reload (§4.3)', () => {
  it("runs the app's manual reload task and emits its datagram", async () => {
    sim.executor.setBehaviour(IDS.failingTask, { durationMs: 20 })
    expect((await qrs(sim, `/qrs/app/${IDS.failingApp}/reload`, { method: 'POST' })).status).toBe(204)
    const fields = (await udp.next(8000)).toString('utf8').split(';')
    expect([fields[0], fields[2], fields[5]]).toEqual([
      '/scheduler-task-failed/',
      'Manually triggered reload of Test failing reloads 2',
      IDS.failingTask,
    ])
  })
})
