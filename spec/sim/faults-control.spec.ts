import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { RunningSimulator } from '../../src/sim/index.js'
import { control, IDS, qrs, startTestSim, tempCertDir, udpReceiver, waitFor, type UdpReceiver } from './sim-harness.js'

type Json = Record<string, any>

let sim: RunningSimulator
let udp: UdpReceiver

beforeAll(async () => {
  udp = await udpReceiver()
  sim = await startTestSim(tempCertDir('faults'), udp.port)
})
beforeEach(async () => {
  expect((await control(sim, 'POST', 'reset')).status).toBe(200)
  for (const task of sim.model.tasks.values()) sim.executor.setBehaviour(task.id, { durationMs: 20 })
  udp.pending()
})
afterAll(async () => {
  await sim.close()
  await udp.close()
})

async function runAndReceive(taskId: string): Promise<string> {
  await qrs(sim, `/qrs/task/${taskId}/start`, { method: 'POST', body: '{}' })
  return (await udp.next()).toString('utf8')
}

describe('faults (QLIK-PROTOCOLS §4.7)', () => {
  it('successSlash single / double', async () => {
    expect((await runAndReceive(IDS.userSyncTask)).startsWith('/scheduler-task-success//;')).toBe(true)
    expect((await control(sim, 'POST', 'faults', { successSlash: 'single' })).status).toBe(200)
    expect((await runAndReceive(IDS.userSyncTask)).startsWith('/scheduler-task-success/;')).toBe(true)
  })

  it('legacy type names', async () => {
    await control(sim, 'POST', 'faults', { legacyTypeNames: true })
    expect((await runAndReceive(IDS.failingTask)).startsWith('/scheduler-reload-failed/;')).toBe(true)
    expect((await runAndReceive(IDS.userSyncTask)).startsWith('/scheduler-reloadtask-success/;')).toBe(true)
  })

  it('download too early → 404, then 200 once the window has passed', async () => {
    await control(sim, 'POST', 'faults', { downloadTooEarlyMs: 400 })
    await runAndReceive(IDS.failingTask)
    const last = (await qrs(sim, `/qrs/reloadtask/${IDS.failingTask}`)).json<Json>().operational.lastExecutionResult
    const ref = async (): Promise<string> =>
      (await qrs(sim, `/qrs/reloadtask/${IDS.failingTask}/scriptlogfile?executionResultId=${last.id}`)).json<Json>()
        .value
    expect((await qrs(sim, `/qrs/download/reloadtask/${await ref()}/scriptlog.txt`)).status).toBe(404)
    await new Promise((r) => setTimeout(r, 450))
    expect((await qrs(sim, `/qrs/download/reloadtask/${await ref()}/scriptlog.txt`)).status).toBe(200)
  })

  it('5xx rate 1 answers every authenticated QRS call with the configured status', async () => {
    await control(sim, 'POST', 'faults', { qrs5xxRate: 1, qrs5xxStatus: 503 })
    expect((await qrs(sim, '/qrs/about')).status).toBe(503)
    await control(sim, 'POST', 'faults', { qrs5xxRate: 0 })
    expect((await qrs(sim, '/qrs/about')).status).toBe(200)
  })

  it('latency delays QRS answers', async () => {
    await control(sim, 'POST', 'faults', { qrsLatencyMs: 250 })
    const t0 = Date.now()
    expect((await qrs(sim, '/qrs/about')).status).toBe(200)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(240)
  })

  it('duplicate sends every datagram twice; drop sends none', async () => {
    await control(sim, 'POST', 'faults', { udpDuplicate: true })
    const first = await runAndReceive(IDS.userSyncTask)
    expect((await udp.next()).toString('utf8')).toBe(first)
    await control(sim, 'POST', 'faults', { udpDuplicate: false, udpDrop: true })
    await qrs(sim, `/qrs/task/${IDS.userSyncTask}/start`, { method: 'POST', body: '{}' })
    await waitFor(() => (sim.model.runningSessionOf(IDS.userSyncTask) ? undefined : true))
    await expect(udp.next(200)).rejects.toThrow('no datagram')
  })

  it('qrsLagsBehindUdp: the datagram arrives before QRS shows the final state', async () => {
    await control(sim, 'POST', 'faults', { qrsLagsBehindUdp: true, udpLagMs: 200 })
    await runAndReceive(IDS.failingTask)
    expect(sim.model.lastResultOf(sim.model.tasks.get(IDS.failingTask)!)?.status).toBe(2)
    await waitFor(() =>
      sim.model.lastResultOf(sim.model.tasks.get(IDS.failingTask)!)?.status === 8 ? true : undefined,
    )
  })

  it('rejects unknown or mistyped fault keys', async () => {
    const res = await control(sim, 'POST', 'faults', { nonsense: 1, qrsLatencyMs: 'slow' })
    expect(res.status).toBe(400)
  })
})

describe('control API (§4.7)', () => {
  it('sets behaviours and validates them', async () => {
    const ok = await control(sim, 'POST', `tasks/${IDS.userSyncTask}/behaviour`, { outcome: 'fail', durationMs: 10 })
    expect(ok.json).toMatchObject({ outcome: 'fail', durationMs: 10 })
    expect((await control(sim, 'POST', `tasks/${IDS.userSyncTask}/behaviour`, { outcome: 'explode' })).status).toBe(400)
    expect((await control(sim, 'POST', 'tasks/00000000-0000-0000-0000-000000000000/behaviour', {})).status).toBe(404)
  })

  it('a failing reload behaviour with failLine and errorText shapes the script log', async () => {
    await control(sim, 'POST', `tasks/${IDS.salesTask}/behaviour`, {
      outcome: 'fail',
      failLine: 25,
      errorText: "Field 'Country' not found",
    })
    await runAndReceive(IDS.salesTask)
    const last = (await qrs(sim, `/qrs/reloadtask/${IDS.salesTask}`)).json<Json>().operational.lastExecutionResult
    const ref = (
      await qrs(sim, `/qrs/reloadtask/${IDS.salesTask}/scriptlog?fileReferenceId=${last.fileReferenceID}`)
    ).json<Json>().value
    const log = (await qrs(sim, `/qrs/download/reloadtask/${ref}/x.log`)).body
    expect(log).toContain("Error: Field 'Country' not found")
    expect(log).toMatch(/0025 {2}LOAD CustomerID, CustomerName, Country\r\n/)
    expect(log).not.toContain('Regions:')
  })

  it('sends a raw datagram byte for byte', async () => {
    const raw =
      '/engine-reload-failed/;pro2-win1;e7af59a0-c243-480d-9571-08727551a66f;' + 'Åäö;LAB;goran;2024-01-01;x;boom'
    expect((await control(sim, 'POST', 'udp/send', { raw })).status).toBe(200)
    expect((await udp.next()).equals(Buffer.from(raw, 'utf8'))).toBe(true)
  })

  it('records QRS calls in order with path, decoded query, user and status', async () => {
    await control(sim, 'DELETE', 'requests')
    await qrs(sim, `/qrs/task?filter=id eq ${IDS.failingTask}`)
    await qrs(sim, '/qrs/about', { xrfkey: null })
    const calls = (await control(sim, 'GET', 'requests?face=qrs')).json as Json[]
    expect(calls.map((c) => [c.method, c.path, c.status])).toEqual([
      ['GET', '/qrs/task', 200],
      ['GET', '/qrs/about', 403],
    ])
    expect(calls[0]?.query).toMatchObject({ filter: `id eq ${IDS.failingTask}` })
    expect(calls[0]?.user).toBe('Internal\\sa_repository')
  })

  it('reset reloads the fixture and forgets runs', async () => {
    await runAndReceive(IDS.userSyncTask)
    sim.model.apps.delete(IDS.salesApp)
    await control(sim, 'POST', 'reset')
    expect(sim.model.apps.has(IDS.salesApp)).toBe(true)
    expect(sim.model.tasks.get(IDS.userSyncTask)?.lastExecutionResultId).toBeNull()
    const task = (await qrs(sim, `/qrs/usersynctask/${IDS.userSyncTask}`)).json<Json>()
    expect(task.operational.lastExecutionResult).toMatchObject({
      status: 0,
      startTime: '1753-01-01T00:00:00.000Z',
      fileReferenceID: '00000000-0000-0000-0000-000000000000',
    })
  })

  it('reports its settings', async () => {
    expect((await control(sim, 'GET', 'settings')).json).toMatchObject({
      qrsPort: sim.settings.qrsPort,
      controlPort: sim.settings.controlPort,
    })
  })
})
