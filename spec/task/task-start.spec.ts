import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { control } from '../sim/sim-harness.js'
import { type Json, startTaskRig, TASKS, type TaskRig } from './task-harness.js'

let rig: TaskRig

beforeAll(async () => {
  rig = await startTaskRig('task-start', { durationMs: 3000 })
})
beforeEach(async () => {
  await rig.sim.reset()
})
afterAll(async () => {
  await rig?.stop()
})

const start = (body: Json, timeoutMs = 5000) => rig.client.request<Json>('task/start', body, { timeoutMs })

describe('task/start selectors (issue #11)', () => {
  it('by id: answers at once with the execution id that QRS started, and a job id', async () => {
    const env = await start({ taskIds: [TASKS.salesEtl] })
    expect(env.status, JSON.stringify(env)).toBe('ok')
    const data = (env as Json).data
    expect(data.state).toBe('running')
    expect(data.jobId).toMatch(/^[0-9a-f-]{36}$/)
    expect(data.items).toEqual([
      expect.objectContaining({
        status: 'started',
        by: 'taskId',
        taskId: TASKS.salesEtl,
        taskName: 'Reload Sales ETL',
        executionId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      }),
    ])
    expect(data.counts).toEqual({ started: 1, invalid: 0, denied: 0, notFound: 0, failed: 0 })
    const session = await control(rig.sim, 'GET', 'executions')
    expect((session.json as Json[]).map((s) => s.id)).toContain(data.items[0].executionId)
  })

  it('accepts upper-case GUIDs, reports malformed ids as invalid and unknown ones as not-found', async () => {
    const env = await start({ taskIds: [TASKS.salesEtl.toUpperCase(), 'not-a-guid', TASKS.missing] })
    const items = (env as Json).data.items
    expect(items.map((i: Json) => [i.status, i.taskId])).toEqual([
      ['started', TASKS.salesEtl],
      ['invalid', 'not-a-guid'],
      ['not-found', TASKS.missing],
    ])
  })

  it('by name, by tag and by custom property, several selectors in one request; one run per task', async () => {
    const env = await start({
      taskNames: ['reload sales dashboard'],
      tags: ['Nightly'],
      customProperties: [{ name: 'TaskOwnerEmail', value: 'goran@example.com' }],
    })
    const items = (env as Json).data.items as Json[]
    const byName = items.filter((i) => i.by === 'taskName')
    expect(byName).toEqual([expect.objectContaining({ status: 'started', taskId: TASKS.salesDashboard })])
    const tagged = items.filter((i) => i.by === 'tag').map((i) => i.taskId)
    expect(tagged.sort()).toEqual([TASKS.salesEtl, TASKS.salesDashboard, TASKS.archive].sort())
    const byCp = items.filter((i) => i.by === 'customProperty').map((i) => i.taskId)
    expect(byCp.sort()).toEqual(
      [TASKS.failing, TASKS.finance, TASKS.archive, '6b7c8d9e-0f1a-4b2c-9d3e-4f5a6b7c8d9e'].sort(),
    )
    // The dashboard is named twice and the archive task matched twice: each started once.
    const runs = new Map(items.map((i) => [i.taskId, i.executionId]))
    expect(items.filter((i) => i.taskId === TASKS.archive).map((i) => i.executionId)).toEqual([
      runs.get(TASKS.archive),
      runs.get(TASKS.archive),
    ])
    expect(new Set(items.map((i) => i.executionId)).size).toBe(new Set(items.map((i) => i.taskId)).size)
  })

  it('a tag, name or custom property matching nothing is one not-found item', async () => {
    const env = await start({
      tags: ['No such tag'],
      taskNames: ["O'Brien's task"],
      customProperties: [{ name: 'Department', value: 'Nope' }],
    })
    expect((env as Json).data.items.map((i: Json) => [i.by, i.status])).toEqual([
      ['taskName', 'not-found'],
      ['tag', 'not-found'],
      ['customProperty', 'not-found'],
    ])
  })

  it('a disabled task is failed (Sense answered the empty execution id)', async () => {
    const env = await start({ taskIds: [TASKS.disabled] })
    expect((env as Json).data.items[0]).toMatchObject({ status: 'failed', error: { code: 'CONFLICT' } })
  })

  it('no selector at all is VALIDATION_FAILED', async () => {
    const env = await start({})
    expect(env).toMatchObject({ status: 'error', error: { code: 'VALIDATION_FAILED' } })
  })

  describe('allTaskIdsMustExist', () => {
    it('one missing id: no id-named task starts, and the would-be starts are denied; tags still start', async () => {
      const env = await start({
        taskIds: [TASKS.salesEtl, TASKS.missing],
        tags: ['Finance'],
        allTaskIdsMustExist: true,
      })
      const items = (env as Json).data.items as Json[]
      expect(items.map((i) => [i.by, i.status, i.taskId])).toEqual([
        ['taskId', 'denied', TASKS.salesEtl],
        ['taskId', 'not-found', TASKS.missing],
        ['tag', 'started', TASKS.finance],
      ])
      const sessions = (await control(rig.sim, 'GET', 'executions')).json as Json[]
      expect(sessions.map((s) => s.taskId)).toEqual([TASKS.finance])
    })

    it('all ids exist: every one starts', async () => {
      const env = await start({ taskIds: [TASKS.salesEtl, TASKS.salesDashboard], allTaskIdsMustExist: true })
      expect((env as Json).data.counts.started).toBe(2)
    })
  })
})

describe('key-value pairs before the start', () => {
  it('are set through kv/set before any task starts (ttl as a string too), and listed in the answer', async () => {
    const env = await start({
      taskIds: [TASKS.salesEtl],
      keyValues: [
        { namespace: 'etl-params', key: 'region', value: 'north' },
        { namespace: 'etl-params', key: 'batch', value: 42, ttl: '60000' },
      ],
    })
    expect((env as Json).data.keyValues).toEqual([
      { namespace: 'etl-params', key: 'region' },
      { namespace: 'etl-params', key: 'batch' },
    ])
    const got = await rig.client.request<Json>('kv/get', { namespace: 'etl-params', key: 'batch' })
    expect((got as Json).data).toMatchObject({ value: '42', expiresAt: expect.any(String) })
    expect(
      ((await rig.client.request<Json>('kv/get', { namespace: 'etl-params', key: 'region' })) as Json).data.value,
    ).toBe('north')
  })

  it('a pair kv/set refuses fails the request before anything starts', async () => {
    const env = await start({ taskIds: [TASKS.salesEtl], keyValues: [{ namespace: 'x', key: 'k', value: '\uD800' }] })
    expect(env).toMatchObject({ status: 'error', error: { code: 'VALIDATION_FAILED' } })
    expect((env as Json).error.message).toMatch(/keyValues\[0\]/)
    expect((await control(rig.sim, 'GET', 'executions')).json).toEqual([])
  })
})
