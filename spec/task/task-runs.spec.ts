import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { control } from '../sim/sim-harness.js'
import { type Json, startTaskRig, TASKS, type TaskRig } from './task-harness.js'

let rig: TaskRig

beforeAll(async () => {
  rig = await startTaskRig('task-runs', { overrides: { 'capabilities.task.scriptLogTailLines': 5 } })
})
beforeEach(async () => {
  await rig.sim.reset()
})
afterAll(async () => {
  await rig?.stop()
})

const parse = (list: Array<{ payload: string }>) => list.map((m) => JSON.parse(m.payload) as Json)

describe('following the runs (job)', () => {
  it('wait: true answers at the end: status, duration, execution id; finished event, retained state', async () => {
    const events = await rig.client.collect('sense/event/task/#')
    const env = await rig.client.request<Json>('task/start', { taskIds: [TASKS.salesEtl], wait: true })
    expect(env.status).toBe('ok')
    const data = (env as Json).data
    expect(data.state).toBe('completed')
    expect(data.allSucceeded).toBe(true)
    const executionId = data.items[0].executionId
    expect(data.executions).toEqual([
      expect.objectContaining({
        taskId: TASKS.salesEtl,
        taskName: 'Reload Sales ETL',
        executionId,
        status: 'FinishedSuccess',
        statusCode: 7,
        succeeded: true,
        durationMs: expect.any(Number),
        startedAt: expect.any(String),
        endedAt: expect.any(String),
      }),
    ])
    expect(data.executions[0].scriptLogTail).toBeUndefined()
    await expect
      .poll(() => events.map((e) => e.topic))
      .toEqual(['sense/event/task/started', 'sense/event/task/finished'])
    const [started, finished] = parse(events)
    expect(started).toMatchObject({ type: 'sense.task.started', data: { taskId: TASKS.salesEtl, executionId } })
    expect(finished).toMatchObject({ type: 'sense.task.finished', data: { executionId, status: 'FinishedSuccess' } })
    const state = await rig.client.collect(`sense/state/task/${TASKS.salesEtl}`)
    await expect.poll(() => state.length).toBe(1)
    expect(state[0]?.retain).toBe(true)
    expect(JSON.parse(state[0]?.payload ?? '{}')).toMatchObject({ executionId, status: 'FinishedSuccess' })
  })

  it('a failed run: failed event and the script log tail in the answer', async () => {
    const events = await rig.client.collect('sense/event/task/failed')
    const env = await rig.client.request<Json>(
      'task/start',
      { taskIds: [TASKS.failing], wait: true },
      { timeoutMs: 10000 },
    )
    const run = (env as Json).data.executions[0]
    expect(run).toMatchObject({ status: 'FinishedFail', succeeded: false })
    expect(run.scriptLogTail).toHaveLength(5)
    expect(run.scriptLogTail.join('\n')).toMatch(/Execution Failed/)
    expect((env as Json).data.allSucceeded).toBe(false)
    await expect.poll(() => events.length).toBe(1)
    expect(parse(events)[0]?.data.scriptLogTail).toEqual(run.scriptLogTail)
  })

  it('a task that retries: the job goes on through Retry and ends with the last attempt', async () => {
    const env = await rig.client.request<Json>(
      'task/start',
      { taskIds: [TASKS.retry], wait: true },
      { timeoutMs: 10000 },
    )
    expect((env as Json).data.executions[0]).toMatchObject({ status: 'FinishedSuccess', succeeded: true })
  })

  it('without wait: job progress events carry the status changes, and the job completes with the runs', async () => {
    await control(rig.sim, 'POST', `tasks/${TASKS.salesEtl}/behaviour`, { durationMs: 400 })
    const jobs = await rig.client.collect('sense/event/job/#')
    const env = await rig.client.request<Json>('task/start', { taskIds: [TASKS.salesEtl] })
    const jobId = (env as Json).data.jobId
    await expect
      .poll(() => jobs.some((m) => m.topic === `sense/event/job/${jobId}/completed`), { timeout: 5000 })
      .toBe(true)
    const progress = parse(jobs.filter((m) => m.topic === `sense/event/job/${jobId}/progress`))
    expect(progress.length).toBeGreaterThan(0)
    expect(progress.map((p) => p.data.status)).toContain('Started')
    const completed = parse(jobs.filter((m) => m.topic.endsWith('/completed')))[0]
    expect(completed?.data.result.executions[0].status).toBe('FinishedSuccess')
    const status = await rig.client.request<Json>('job/status', { jobId })
    expect((status as Json).data).toMatchObject({ state: 'completed', capability: 'task/start' })
  })

  it('job/cancel stops following (the Sense run goes on); wait: true answers CANCELLED', async () => {
    await control(rig.sim, 'POST', `tasks/${TASKS.finance}/behaviour`, { durationMs: 5000 })
    const events = await rig.client.collect('sense/event/task/#')
    const waiting = rig.client.request<Json>('task/start', { taskIds: [TASKS.finance], wait: true, transaction: 'w1' })
    await expect.poll(() => events.length).toBe(1)
    const jobs = (await rig.client.request<Json>('job/list', { capability: 'task/start', state: 'running' })) as Json
    expect(jobs.data.jobs).toHaveLength(1)
    const cancel = await rig.client.request<Json>('job/cancel', { jobId: jobs.data.jobs[0].id })
    expect(cancel.status).toBe('ok')
    expect(await waiting).toMatchObject({ status: 'error', error: { code: 'CANCELLED' } })
    const running = (await control(rig.sim, 'GET', 'executions')).json as Json[]
    // Other tests' runs may still be going on a loaded machine; what matters is that this one goes on.
    expect(running.map((s) => s.taskId)).toContain(TASKS.finance)
  })
})

describe('task/status and task/list', () => {
  it('task/status by task id and by execution id; a never-run task has no execution', async () => {
    const env = await rig.client.request<Json>('task/start', { taskIds: [TASKS.salesEtl], wait: true })
    const executionId = (env as Json).data.items[0].executionId
    const byTask = (await rig.client.request<Json>('task/status', { taskId: TASKS.salesEtl.toUpperCase() })) as Json
    expect(byTask.data.execution).toMatchObject({
      executionId,
      status: 'FinishedSuccess',
      taskName: 'Reload Sales ETL',
    })
    const byRun = (await rig.client.request<Json>('task/status', { executionId })) as Json
    expect(byRun.data.execution).toEqual(byTask.data.execution)
    const never = (await rig.client.request<Json>('task/status', { taskId: TASKS.archive })) as Json
    expect(never.data.execution).toBeNull()
    const unknown = await rig.client.request<Json>('task/status', { executionId: TASKS.missing })
    expect(unknown).toMatchObject({ status: 'error', error: { code: 'NOT_FOUND' } })
    const both = await rig.client.request<Json>('task/status', { taskId: TASKS.archive, executionId })
    expect(both).toMatchObject({ status: 'error', error: { code: 'VALIDATION_FAILED' } })
  })

  it('task/list filters by name, tag and custom property', async () => {
    const all = (await rig.client.request<Json>('task/list', {})) as Json
    expect(all.data.tasks.length).toBeGreaterThanOrEqual(10)
    const nightly = (await rig.client.request<Json>('task/list', { tag: 'nightly' })) as Json
    expect(nightly.data.tasks.map((t: Json) => t.name)).toEqual([
      'Reload Sales dashboard',
      'Reload Sales ETL',
      'Run nightly archive cleanup',
    ])
    expect(nightly.data.tasks[2]).toMatchObject({ taskType: 'ExternalProgram', appId: null, tags: ['Nightly'] })
    const byName = (await rig.client.request<Json>('task/list', { name: 'Reload Sales ETL' })) as Json
    expect(byName.data.tasks.map((t: Json) => t.id)).toEqual([TASKS.salesEtl])
    const byCp = (await rig.client.request<Json>('task/list', {
      tag: 'Nightly',
      customProperty: { name: 'Butler_SuccessTaskAlert', value: 'Success reloads' },
    })) as Json
    expect(byCp.data.tasks.map((t: Json) => t.id)).toEqual([TASKS.salesDashboard])
  })
})
