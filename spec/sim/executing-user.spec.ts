import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { RunningSimulator } from '../../src/sim/index.js'
import { IDS, qrs, startTestSim, tempCertDir, udpReceiver, type UdpReceiver } from './sim-harness.js'

type Json = Record<string, any>

let sim: RunningSimulator
let udp: UdpReceiver

beforeAll(async () => {
  udp = await udpReceiver()
  sim = await startTestSim(tempCertDir('exec-user'), udp.port, {
    behaviours: { '*': { durationMs: 150, distributionQueueMs: 0 } },
  })
})
beforeEach(async () => {
  await sim.reset()
  udp.pending()
})
afterAll(async () => {
  await sim.close()
  await udp.close()
})

/** Starts the failing task under a header spelling, and returns what the run says about its user. */
async function runAs(header: string) {
  const start = await qrs(sim, `/qrs/task/${IDS.failingTask}/start/synchronous`, { method: 'POST', user: header })
  const sessionId = start.json<{ value: string }>().value
  const session = (await qrs(sim, `/qrs/executionsession/${sessionId}`)).json<Json>()
  const datagram = (await udp.next()).toString('utf8').split(';')
  const last = (await qrs(sim, `/qrs/reloadtask/${IDS.failingTask}`)).json<Json>().operational.lastExecutionResult
  const ref = (await qrs(sim, `/qrs/reloadtask/${IDS.failingTask}/scriptlogfile?executionResultId=${last.id}`)).json<{
    value: string
  }>().value
  const log = (await qrs(sim, `/qrs/download/reloadtask/${ref}/scriptlog.txt`)).body
  return { session, datagramUser: datagram[4], log }
}

describe('the executing user is the stored user, not the header spelling (issue #11)', () => {
  it('a known user spelled in other case: session, datagram and script log name INTERNAL\\sa_repository', async () => {
    const run = await runAs('UserDirectory=internal; UserId=SA_Repository')
    expect(run.session.modifiedByUserName).toBe('INTERNAL\\sa_repository')
    expect(run.datagramUser).toBe('INTERNAL\\sa_repository')
    expect(run.log).toContain('Reload Executed By            UserDirectory=INTERNAL; UserId=sa_repository')
    expect(run.log).not.toMatch(/SA_Repository|UserDirectory=internal/)
  })

  it('a fixture user (LAB\\goran) spelled lab\\GORAN is reported as LAB\\goran', async () => {
    const run = await runAs('UserDirectory=lab;UserId=GORAN')
    expect(run.datagramUser).toBe('LAB\\goran')
    expect(run.log).toContain('UserDirectory=LAB; UserId=goran')
  })

  it('a user the repository does not know keeps the spelling it arrived with', async () => {
    const run = await runAs('UserDirectory=Ext;UserId=Robot1')
    expect(run.datagramUser).toBe('Ext\\Robot1')
    expect(run.session.modifiedByUserName).toBe('Ext\\Robot1')
  })
})
