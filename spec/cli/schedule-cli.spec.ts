import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../helpers/process.js'
import { startTaskRig, TASKS, type TaskRig } from '../task/task-harness.js'

type Json = Record<string, any>

/** Schedules managed with `sensebus request schedule/…` as a real process, running tasks in the simulator. */
describe('sensebus request schedule/*: create, list, run-now, delete', { timeout: 60_000 }, () => {
  let rig: TaskRig
  const cli = async (capability: string, body?: object, ...extra: string[]) => {
    const args = ['request', capability, ...(body ? [JSON.stringify(body)] : []), '--url', rig.sb.mqttUrl, ...extra]
    const r = await runCli(args)
    return { ...r, env: r.stdout ? (JSON.parse(r.stdout) as Json) : undefined }
  }
  const starts = () =>
    rig.sim.recorder.list('qrs').filter((c) => c.path.includes(`/qrs/task/${TASKS.salesEtl}/start`)).length

  beforeAll(async () => {
    rig = await startTaskRig('schedule-cli')
  })
  afterAll(async () => {
    await rig?.stop()
  })

  it('the whole life of a schedule, each step a CLI process with its exit code', async () => {
    // Once a year, so only run-now makes it run during the spec.
    const created = await cli('schedule/create', {
      name: 'Nightly sales',
      cron: '0 3 1 1 *',
      timezone: 'Europe/Stockholm',
      qlikSenseTaskId: TASKS.salesEtl,
      tags: ['cli'],
    })
    expect(created.code, created.stderr).toBe(0)
    expect(created.env).toMatchObject({
      status: 'ok',
      data: {
        name: 'Nightly sales',
        target: { capability: 'task/start', request: { taskIds: [TASKS.salesEtl] } },
        enabled: true,
        nextRun: expect.stringMatching(/-01-01T02:00:00\.000Z$/),
      },
    })
    const id = created.env?.data.id as string

    const listed = await cli('schedule/list', { tag: 'cli' })
    expect(listed.code).toBe(0)
    expect(listed.env?.data.schedules.map((s: Json) => s.id)).toEqual([id])

    const before = starts()
    const ran = await cli('schedule/run-now', { id })
    expect(ran.code, ran.stderr).toBe(0)
    expect(ran.env).toMatchObject({ status: 'ok', data: { id, transaction: expect.stringMatching(/^schedule:/) } })
    await expect.poll(starts).toBe(before + 1)
    // Waits in-process until the run has a result, so the poll does not start a CLI process per try; the
    // result is then read through the CLI.
    const lastResult = { status: 'ok', trigger: 'manual', transaction: ran.env?.data.transaction }
    const inProcess = async () => {
      const r = await rig.client.request<Json>('schedule/get', { id })
      return r.status === 'ok' ? r.data.lastResult : undefined
    }
    await expect.poll(inProcess, { timeout: 10_000 }).toMatchObject(lastResult)
    const got = await cli('schedule/get', { id })
    expect(got.code).toBe(0)
    expect(got.env?.data.lastResult).toMatchObject(lastResult)

    const deleted = await cli('schedule/delete', { id })
    expect(deleted.code).toBe(0)
    expect(deleted.env).toEqual({ transaction: expect.anything(), status: 'ok', data: { id, deleted: true } })
    const gone = await cli('schedule/get', { id })
    expect(gone.code).toBe(1)
    expect(gone.env).toMatchObject({ status: 'error', error: { code: 'NOT_FOUND' } })
    expect((await cli('schedule/list', { tag: 'cli' })).env?.data.schedules).toEqual([])
  })

  it('bad input exits 1 with the error envelope (2 for a payload that is not JSON)', async () => {
    const badCron = await cli('schedule/create', { name: 'x', cron: 'every day', qlikSenseTaskId: TASKS.salesEtl })
    expect(badCron.code).toBe(1)
    expect(badCron.env).toMatchObject({ status: 'error', error: { code: 'VALIDATION_FAILED' } })
    const unknown = await cli('schedule/run-now', { id: 'no-such-schedule' })
    expect(unknown.code).toBe(1)
    expect(unknown.env).toMatchObject({ status: 'error', error: { code: 'NOT_FOUND' } })
    const notJson = await runCli(['request', 'schedule/create', '{name:', '--url', rig.sb.mqttUrl])
    expect(notJson.code).toBe(2)
  })
})
