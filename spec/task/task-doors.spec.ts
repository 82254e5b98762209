import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { call } from '../http/http-helpers.js'
import { control, IDS } from '../sim/sim-harness.js'
import { type Json, startTaskRig, TASKS, type TaskRig } from './task-harness.js'

let rig: TaskRig

beforeAll(async () => {
  rig = await startTaskRig('task-doors', {
    durationMs: 3000,
    overrides: {
      'capabilities.task.allow.enable': true,
      'capabilities.task.allow.taskIds': [TASKS.salesEtl.toUpperCase()],
      'capabilities.task.allow.tags': ['Finance'],
      'capabilities.task.allow.customProperties': [{ name: 'TaskOwnerEmail', value: 'anna.berg@example.com' }],
      'capabilities.task.startTopic.enable': true,
    },
  })
})
beforeEach(async () => {
  await rig.sim.reset()
})
afterAll(async () => {
  await rig?.stop()
})

const running = async () => ((await control(rig.sim, 'GET', 'executions')).json as Json[]).map((s) => s.taskId).sort()
const http = (method: string, path: string, opts?: Parameters<typeof call>[3]) =>
  call(rig.sb.httpUrl, method, path, opts)

describe('the allow-list holds on every door', () => {
  it('MQTT: unlisted id denied, listed id (any case) starts, a task with a listed tag starts by id', async () => {
    const env = (await rig.client.request<Json>('task/start', {
      taskIds: [TASKS.salesDashboard, TASKS.salesEtl, TASKS.finance],
      tags: ['Nightly', 'Finance'],
    })) as Json
    expect(env.data.items.map((i: Json) => [i.by, i.status, i.taskId ?? i.tag])).toEqual([
      ['taskId', 'denied', TASKS.salesDashboard],
      ['taskId', 'started', TASKS.salesEtl],
      ['taskId', 'started', TASKS.finance],
      ['tag', 'denied', 'Nightly'],
      ['tag', 'started', TASKS.finance],
    ])
    expect(await running()).toEqual([TASKS.salesEtl, TASKS.finance].sort())
  })

  it('HTTP (Butler route): denied ids, tags and custom properties in Butler’s body', async () => {
    const body = [
      { type: 'starttasktag', payload: { tag: 'Sales' } },
      { type: 'starttaskcustomproperty', payload: { customPropertyName: 'Department', customPropertyValue: 'X' } },
      {
        type: 'starttaskcustomproperty',
        payload: { customPropertyName: 'TaskOwnerEmail', customPropertyValue: 'anna.berg@example.com' },
      },
    ]
    const res = await http('PUT', `/v4/reloadtask/${TASKS.salesDashboard}/start`, { body })
    expect(res.status).toBe(200)
    expect(res.json).toEqual({
      tasksId: { started: [], invalid: [], denied: [{ taskId: TASKS.salesDashboard }] },
      tasksTag: [],
      tasksTagDenied: [{ tag: 'Sales' }],
      tasksCP: [{ taskId: TASKS.salesEtl, taskName: 'Reload Sales ETL' }],
      tasksCPDenied: [{ name: 'Department', value: 'X' }],
    })
    expect(await running()).toEqual([TASKS.salesEtl])
  })

  it('app/reload follow-ups go through task/start: the allow-list decides, one outcome per task id', async () => {
    const started = await rig.client.collect('sense/event/task/started')
    const env = (await rig.client.request<Json>(
      'app/reload',
      { appId: IDS.salesApp, wait: true, startTaskOnSuccess: [TASKS.salesDashboard, TASKS.salesEtl.toUpperCase()] },
      { timeoutMs: 15_000 },
    )) as Json
    expect(env.status, JSON.stringify(env)).toBe('ok')
    expect(env.data.success).toBe(true)
    expect(env.data.followUps).toEqual([
      {
        taskId: TASKS.salesDashboard,
        started: false,
        status: 'denied',
        error: { code: 'FORBIDDEN', message: expect.any(String) },
      },
      { taskId: TASKS.salesEtl.toUpperCase(), started: true, status: 'started', sessionId: expect.any(String) },
    ])
    expect(await running()).toEqual([TASKS.salesEtl])
    // The started run is followed like any task/start run: its event carries the same execution id.
    await expect
      .poll(() => started.map((m) => (JSON.parse(m.payload) as Json).data.executionId))
      .toContain(env.data.followUps[1].sessionId)
  })

  it('the bare-GUID topic: a listed task starts and an unlisted one is denied; outcomes are published', async () => {
    const results = await rig.client.collect('qliksense/start_task/result')
    await rig.client.mqtt.publishAsync('qliksense/start_task', TASKS.salesEtl, { qos: 1 })
    await rig.client.mqtt.publishAsync('qliksense/start_task', `${TASKS.salesDashboard}\n`, { qos: 1 })
    await rig.client.mqtt.publishAsync('qliksense/start_task', 'hello', { qos: 1 })
    await expect.poll(() => results.length).toBe(3)
    const byTask = new Map(results.map((r) => JSON.parse(r.payload) as Json).map((r) => [r.taskId, r]))
    expect(byTask.get(TASKS.salesEtl)).toMatchObject({ status: 'ok', data: { counts: { started: 1 } } })
    expect(byTask.get(TASKS.salesDashboard)).toMatchObject({ status: 'ok', data: { counts: { denied: 1 } } })
    expect(byTask.get('hello')).toMatchObject({ status: 'error', error: { code: 'VALIDATION_FAILED' } })
    expect(await running()).toEqual([TASKS.salesEtl])
  })
})

describe("Butler's /v4/reloadtask/:taskId/start", () => {
  // Bodies below are what StartTask / StartTask_KeyValue in Butler's butler_subs.qvs build, byte for byte.
  it('StartTask_KeyValue, byte for byte: POST + override, ttl as a string → 200, the pair stored', async () => {
    const bytes =
      '[{"type":"keyvaluestore", "payload":{"namespace":"qvs-ns", "key":"k1", "value":"v1", "ttl":"60000"}}]'
    const res = await http('POST', `/v4/reloadtask/${TASKS.salesEtl}/start`, {
      body: bytes,
      headers: { 'content-type': 'application/json', 'X-HTTP-Method-Override': 'PUT' },
    })
    expect(res.status, res.text).toBe(200)
    expect(res.json.tasksId.started).toEqual([{ taskId: TASKS.salesEtl, taskName: 'Reload Sales ETL' }])
    const kv = (await rig.client.request<Json>('kv/get', { namespace: 'qvs-ns', key: 'k1' })) as Json
    expect(kv.data).toMatchObject({ value: 'v1', expiresAt: expect.any(String) })
  })

  it('StartTask with "-" and task id and tag items (trailing comma removed as the sub does)', async () => {
    const bytes =
      `[{"type":"starttaskid", "payload":{"taskId":"${TASKS.salesEtl}"}},` +
      `{"type":"starttaskid", "payload":{"taskId":"abc"}},` +
      `{"type":"starttasktag", "payload":{"tag":"Finance"}}]`
    const res = await http('POST', '/v4/reloadtask/-/start', {
      body: bytes,
      headers: { 'content-type': 'application/json', 'X-HTTP-Method-Override': 'PUT' },
    })
    expect(res.status, res.text).toBe(200)
    expect(res.json).toEqual({
      tasksId: {
        started: [{ taskId: TASKS.salesEtl, taskName: 'Reload Sales ETL' }],
        invalid: [{ taskId: 'abc' }],
        denied: [],
      },
      tasksTag: [{ taskId: TASKS.finance, taskName: 'Reload Finance budget 2024' }],
      tasksTagDenied: [],
      tasksCP: [],
      tasksCPDenied: [],
    })
  })

  it('an empty body, "[]", "null" and Fastify\'s "[null]" all mean: only the id in the path', async () => {
    for (const body of [undefined, '[]', 'null', '[null]']) {
      await rig.sim.reset()
      const res = await http('PUT', `/v4/reloadtask/${TASKS.salesEtl}/start`, {
        ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/json' } }),
      })
      expect(res.status, `${body}: ${res.text}`).toBe(200)
      expect(res.json.tasksId.started).toHaveLength(1)
    }
  })

  it('allTaskIdsMustExist=true with an invalid id → nothing named by id starts, would-be starts denied', async () => {
    const res = await http('PUT', `/v4/reloadtask/${TASKS.salesEtl}/start?allTaskIdsMustExist=true`, {
      body: [{ type: 'starttaskid', payload: { taskId: TASKS.missing } }],
    })
    expect(res.status).toBe(200)
    expect(res.json.tasksId).toEqual({
      started: [],
      invalid: [{ taskId: TASKS.missing }],
      denied: [{ taskId: TASKS.salesEtl }],
    })
    expect(await running()).toEqual([])
    const bad = await http('PUT', `/v4/reloadtask/${TASKS.salesEtl}/start?allTaskIdsMustExist=maybe`)
    expect(bad.status).toBe(400)
  })
})

describe('Sense down', () => {
  it('a hung QRS is reported within startTimeoutMs as SENSE_UNREACHABLE, and Butler’s route answers 500', async () => {
    const hung = await startTaskRig('task-hung', {
      overrides: { 'capabilities.task.startTimeoutMs': 400, 'sense.healthIntervalMs': 60_000 },
    })
    try {
      await control(hung.sim, 'POST', 'faults', { qrsLatencyMs: 5000 })
      const t0 = Date.now()
      const env = await hung.client.request<Json>('task/start', { taskIds: [TASKS.salesEtl] })
      expect(env).toMatchObject({ status: 'error', error: { code: 'SENSE_UNREACHABLE' } })
      expect(Date.now() - t0).toBeLessThan(2500)
      const res = await call(hung.sb.httpUrl, 'PUT', `/v4/reloadtask/${TASKS.salesEtl}/start`)
      expect(res.status).toBe(500)
      expect(res.json).toMatchObject({ statusCode: 500, code: 'SENSE_UNREACHABLE' })
    } finally {
      await control(hung.sim, 'POST', 'faults', { qrsLatencyMs: 0 })
      await hung.stop()
    }
  })

  it('Sense stops mid-run: the followed run fails with SENSE_UNREACHABLE after unreachableGiveUpMs', async () => {
    const down = await startTaskRig('task-down', {
      durationMs: 3000,
      overrides: { 'capabilities.task.unreachableGiveUpMs': 300 },
    })
    try {
      const waiting = down.client.request<Json>(
        'task/start',
        { taskIds: [TASKS.salesEtl], wait: true },
        { timeoutMs: 8000 },
      )
      await new Promise((r) => setTimeout(r, 300))
      await down.sim.close()
      expect(await waiting).toMatchObject({ status: 'error', error: { code: 'SENSE_UNREACHABLE' } })
    } finally {
      await down.stop()
    }
  })
})
