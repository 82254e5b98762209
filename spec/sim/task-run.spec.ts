import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { RunningSimulator } from '../../src/sim/index.js'
import { control, IDS, qrs, startTestSim, tempCertDir, udpReceiver, waitFor, type UdpReceiver } from './sim-harness.js'

type Json = Record<string, any>

let sim: RunningSimulator
let udp: UdpReceiver

/** §3.3: 11 fields; field 7 is local `yyyy-MM-dd HH:mm:ss,fff`. */
const DATE_RE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}$/

beforeAll(async () => {
  udp = await udpReceiver()
  // Start-option overrides survive every reset.
  sim = await startTestSim(tempCertDir('run'), udp.port, {
    behaviours: { '*': { durationMs: 30, distributionQueueMs: 0 } },
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

describe('a failing reload task end to end (QLIK-PROTOCOLS §1.6, §3.5, §3.7, §4.6)', () => {
  it('POST start → 204 → final QRS state → exact datagram → script log by both routes', async () => {
    const start = await qrs(sim, `/qrs/task/${IDS.failingTask}/start`, { method: 'POST', body: '{}' })
    expect(start.status).toBe(204)
    expect(start.body).toBe('')

    const bytes = await udp.next()
    // §3.7: when the datagram arrives the QRS state is already final.
    const stateAtArrival = sim.model.lastResultOf(sim.model.tasks.get(IDS.failingTask)!)!
    expect(stateAtArrival.status).toBe(8)

    const text = bytes.toString('utf8')
    expect(Buffer.from(text, 'utf8').equals(bytes)).toBe(true)
    expect(text.endsWith('\n')).toBe(false)
    const fields = text.split(';')
    expect(fields).toHaveLength(11)
    expect(fields[7]).toMatch(DATE_RE)
    const task = (await qrs(sim, `/qrs/reloadtask/${IDS.failingTask}`)).json<Json>()
    const last = task.operational.lastExecutionResult
    const full = (await qrs(sim, `/qrs/executionresult/${last.id}`)).json<Json>()
    const expected = [
      '/scheduler-task-failed/',
      'pro2-win1',
      'Manually triggered reload of Test failing reloads 2',
      'Test failing reloads 2',
      'INTERNAL\\sa_repository',
      IDS.failingTask,
      IDS.failingApp,
      fields[7],
      'INFO',
      full.executionID,
      'Max retries reached',
    ].join(';')
    expect(bytes.equals(Buffer.from(expected, 'utf8'))).toBe(true)

    // The QRS side of the same run (§1.10 a).
    expect(last.status).toBe(8)
    expect(last.details.at(-1)).toMatchObject({
      message: 'Changing task state from Started to FinishedFail',
      detailsType: 0,
    })
    expect(last.details.map((d: Json) => d.message).slice(0, 4)).toEqual([
      'Changing task state to Triggered',
      'Trying to start task.  Sending task to slave scheduler',
      'Changing task state from Triggered to Started',
      'Reference to scriptlog added',
    ])
    expect(last.fileReferenceID).not.toBe('00000000-0000-0000-0000-000000000000')
    expect(last.scriptLogAvailable).toBe(true)
    expect(last.duration).toBe(Date.parse(last.stopTime) - Date.parse(last.startTime))
    expect(full).toMatchObject({
      taskID: IDS.failingTask,
      appID: IDS.failingApp,
      schemaPath: 'ExecutionResult',
      executingNodeName: 'pro2-win1',
    })

    // Old route: fileReferenceId → ref → download (§1.8).
    const ref1 = await qrs(sim, `/qrs/reloadtask/${IDS.failingTask}/scriptlog?fileReferenceId=${last.fileReferenceID}`)
    expect(ref1.status).toBe(200)
    const log1 = await qrs(sim, `/qrs/download/reloadtask/${ref1.json<Json>().value}/scriptlog.txt`)
    expect(log1.status).toBe(200)
    expect(log1.headers['content-type']).toBe('text/plain; charset=utf-8')
    // New route: executionResultId → ref → download under the QMC's file name.
    const ref2 = await qrs(sim, `/qrs/ReloadTask/${IDS.failingTask}/scriptlogfile?executionresultid=${last.id}`)
    const log2 = await qrs(sim, `/qrs/download/reloadtask/${ref2.json<Json>().value}/Manually%20triggered%20reload.log`)
    expect(log2.body).toBe(log1.body)

    const log = log1.body
    expect(Buffer.byteLength(log, 'utf8')).toBe(last.scriptLogSize)
    expect(log.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/)
    const lines = log.split('\r\n')
    expect(lines[0]).toMatch(/^\d{8}T\d{6}\.\d{3}[+-]\d{4} Execution started\.$/)
    expect(log).toContain('Reload Executed By            UserDirectory=INTERNAL; UserId=sa_repository')
    expect(log).toContain('0022  FROM [lib://DataFiles/sales_2021.qvd] (qvd);')
    expect(log).toContain("Error: Cannot open file: 'lib://DataFiles/sales_2021.qvd' (Connector error: File not found)")
    expect(lines.at(-2)).toMatch(/ Execution Failed$/)
    expect(lines.at(-1)).toMatch(/ Execution finished\.$/)
  })

  it('a used or unknown download reference is 404, and so is a scriptlog for an unknown file reference', async () => {
    await qrs(sim, `/qrs/task/${IDS.failingTask}/start`, { method: 'POST', body: '{}' })
    await udp.next()
    const last = (await qrs(sim, `/qrs/reloadtask/${IDS.failingTask}`)).json<Json>().operational.lastExecutionResult
    const ref = (
      await qrs(sim, `/qrs/reloadtask/${IDS.failingTask}/scriptlog?fileReferenceId=${last.fileReferenceID}`)
    ).json<Json>().value
    expect((await qrs(sim, `/qrs/download/reloadtask/${ref}/scriptlog.txt`)).status).toBe(200)
    expect((await qrs(sim, `/qrs/download/reloadtask/${ref}/scriptlog.txt`)).status).toBe(404)
    expect(
      (
        await qrs(
          sim,
          `/qrs/reloadtask/${IDS.failingTask}/scriptlog?fileReferenceId=00000000-0000-0000-0000-000000000000`,
        )
      ).status,
    ).toBe(404)
  })
})

describe('success, retries and the chain (§4.5)', () => {
  it('a retried task: one failed attempt (status 10), then success with the double-slash datagram', async () => {
    await qrs(sim, `/qrs/task/${IDS.retryTask}/start`, { method: 'POST', body: '{}' })
    const fields = (await udp.next()).toString('utf8').split(';')
    expect(fields[0]).toBe('/scheduler-task-success//')
    expect(fields[10]).toBe('Execution State Change to FinishedSuccess')
    const results = (await qrs(sim, `/qrs/executionresult/full?filter=ExecutionId eq ${fields[9]}`)).json<Json[]>()
    expect(results.map((r) => r.status).sort()).toEqual([10, 7])
    const task = (await qrs(sim, `/qrs/reloadtask/${IDS.retryTask}`)).json<Json>()
    expect(task.operational.lastExecutionResult.details.at(-1).message).toBe(
      'Changing task state from Started to FinishedSuccess',
    )
  })

  it('runs the chain ETL → dashboard → distribute, each started by sa_scheduler after a success', async () => {
    await control(sim, 'POST', `tasks/${IDS.etlTask}/trigger`, {})
    const [etl, dashboard, distribute] = [await udp.next(), await udp.next(), await udp.next()].map((b) =>
      b.toString('utf8').split(';'),
    )
    expect(etl?.slice(0, 6)).toEqual([
      '/scheduler-task-success//',
      'pro2-win1',
      'Reload Sales ETL',
      'Sales ETL (QVD generator)',
      'INTERNAL\\sa_scheduler',
      IDS.etlTask,
    ])
    expect(dashboard?.[5]).toBe(IDS.salesTask)
    // §3.5: distribute lines carry no app name or id.
    expect(distribute?.slice(0, 7)).toEqual([
      '/scheduler-distribute/',
      'pro2-win1',
      'Distribute Sales dashboard to cloud',
      '',
      'INTERNAL\\sa_scheduler',
      IDS.distributeTask,
      '',
    ])
    expect(distribute?.[10]).toBe('Exiting execute of Distribute task request.')
    const app = (await qrs(sim, `/qrs/app/${IDS.salesApp}`)).json<Json>()
    expect(Date.parse(app.lastReloadTime)).toBeGreaterThan(Date.parse('2024-03-05T00:00:00.000Z'))
  })

  it('distribute passes through DistributionQueue (13) and DistributionRunning (14)', async () => {
    sim.executor.setBehaviour(IDS.distributeTask, { distributionQueueMs: 150, durationMs: 150 })
    await qrs(sim, `/qrs/task/${IDS.distributeTask}/start`, { method: 'POST', body: '{}' })
    const seen = new Set<number>()
    await waitFor(async () => {
      const t = (await qrs(sim, `/qrs/task/full?filter=id eq ${IDS.distributeTask}`)).json<Json[]>()[0]!
      seen.add(t.operational.lastExecutionResult.status)
      return seen.has(7) ? true : undefined
    })
    expect(seen.has(13) || seen.has(14)).toBe(true)
    await udp.next()
  })

  it('preload failure: "Failed to start session" at ERROR level', async () => {
    await qrs(sim, `/qrs/task/${IDS.preloadTask}/start`, { method: 'POST', body: '{}' })
    const fields = (await udp.next()).toString('utf8').split(';')
    expect([fields[0], fields[3], fields[8], fields[10]]).toEqual([
      '/scheduler-task-failed/',
      'Sales dashboard',
      'ERROR',
      'Failed to start session',
    ])
  })

  it('user sync and external program successes carry empty app fields', async () => {
    await qrs(sim, `/qrs/task/${IDS.userSyncTask}/start`, { method: 'POST', body: '{}' })
    const sync = (await udp.next()).toString('utf8').split(';')
    expect([sync[2], sync[3], sync[6]]).toEqual(['User sync LAB', '', ''])
    await qrs(sim, `/qrs/task/${IDS.externalTask}/start`, { method: 'POST', body: '{}' })
    const ext = (await udp.next()).toString('utf8').split(';')
    expect([ext[0], ext[2], ext[3], ext[6]]).toEqual([
      '/scheduler-task-success//',
      'Run nightly archive cleanup',
      '',
      '',
    ])
  })
})

describe('start variants (§1.7)', () => {
  it('start/synchronous → 201 {value: sessionId}; the session is 200 while running and 404 after', async () => {
    sim.executor.setBehaviour(IDS.slowTask, { durationMs: 300 })
    const res = await qrs(sim, `/qrs/task/${IDS.slowTask}/start/synchronous`, { method: 'POST' })
    expect(res.status).toBe(201)
    const sessionId = res.json<Json>().value
    const session = await qrs(sim, `/qrs/executionsession/${sessionId}`)
    expect(session.status).toBe(200)
    expect(session.json<Json>()).toMatchObject({
      id: sessionId,
      reloadTask: { id: IDS.slowTask },
      schemaPath: 'ExecutionSession',
    })
    await udp.next()
    expect((await qrs(sim, `/qrs/executionsession/${sessionId}`)).status).toBe(404)
    const results = (await qrs(sim, `/qrs/executionresult?filter=ExecutionId eq ${sessionId}`)).json<Json[]>()
    expect(results).toHaveLength(1)
  })

  it('a disabled task: 204 without a run; synchronous gives the empty GUID', async () => {
    expect((await qrs(sim, `/qrs/task/${IDS.disabledTask}/start`, { method: 'POST' })).status).toBe(204)
    const sync = await qrs(sim, `/qrs/task/${IDS.disabledTask}/start/synchronous`, { method: 'POST' })
    expect(sync.json()).toEqual({ value: '00000000-0000-0000-0000-000000000000' })
    expect(sim.model.runningSessionOf(IDS.disabledTask)).toBeUndefined()
  })

  it('an unknown task: 404 with a message', async () => {
    const res = await qrs(sim, '/qrs/task/00000000-0000-0000-0000-0000000000ab/start', { method: 'POST', body: '{}' })
    expect(res.status).toBe(404)
    expect(res.body).toContain('00000000-0000-0000-0000-0000000000ab')
  })

  it('start by name and start/many', async () => {
    expect((await qrs(sim, '/qrs/task/start?name=User sync LAB', { method: 'POST' })).status).toBe(204)
    expect((await udp.next()).toString('utf8')).toContain(';User sync LAB;')
    const many = await qrs(sim, '/qrs/task/start/many', {
      method: 'POST',
      body: JSON.stringify([IDS.userSyncTask, IDS.externalTask]),
    })
    expect(many.status).toBe(204)
    const names = [await udp.next(), await udp.next()].map((b) => b.toString('utf8').split(';')[2]).sort()
    expect(names).toEqual(['Run nightly archive cleanup', 'User sync LAB'])
  })
})

describe('abort via the control API (§4.5 abort branch, §4.7)', () => {
  it('4 AbortInitiated → datagram with the aborting user → 6 Aborted', async () => {
    sim.executor.setBehaviour(IDS.slowTask, { durationMs: 10_000 })
    const trigger = await control(sim, 'POST', `tasks/${IDS.slowTask}/trigger`, {})
    const sessionId = (trigger.json as Json).sessionId as string
    await waitFor(() => (sim.model.lastResultOf(sim.model.tasks.get(IDS.slowTask)!)?.status === 2 ? true : undefined))
    const abort = await control(sim, 'POST', `executions/${sessionId}/abort`, { user: 'LAB\\goran' })
    expect(abort.status).toBe(200)
    const fields = (await udp.next()).toString('utf8').split(';')
    expect([fields[0], fields[4], fields[9], fields[10]]).toEqual([
      '/scheduler-task-aborted/',
      'LAB\\goran',
      sessionId,
      'Execution State Change to Aborting',
    ])
    const final = await waitFor(async () => {
      const last = (await qrs(sim, `/qrs/reloadtask/${IDS.slowTask}`)).json<Json>().operational.lastExecutionResult
      return last.status === 6 ? last : undefined
    })
    expect(final.details.map((d: Json) => d.message).slice(-3)).toEqual([
      'Changing task state from Started to AbortInitiated',
      'Changing task state from AbortInitiated to Aborting',
      'Changing task state from Aborting to Aborted',
    ])
    expect((await control(sim, 'POST', `executions/${sessionId}/abort`, {})).status).toBe(404)
  })
})
