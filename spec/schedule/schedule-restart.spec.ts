import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { connect } from '../helpers/client.js'
import { ManualClock, startScheduleApp } from './schedule-harness.js'

type View = Record<string, any>

describe('schedules across a restart', () => {
  it('resume in their last state; missed runs are skipped or run once, per schedule', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sensebus-sched-'))
    const taskCalls: unknown[] = []
    const first = await startScheduleApp(new ManualClock(Date.parse('2026-03-01T00:00:00Z')), { dataDir, taskCalls })
    let c = await connect(first.mqttUrl)
    const make = async (name: string, extra: Record<string, unknown>) => {
      const env = await c.request<View>('schedule/create', {
        name,
        cron: '0 * * * *',
        timezone: 'UTC',
        qlikSenseTaskId: `task-${name}`,
        ...extra,
      })
      if (env.status !== 'ok') throw new Error(JSON.stringify(env))
      return env.data.id as string
    }
    const skip = await make('skip', { missedRuns: 'skip' })
    const once = await make('once', { missedRuns: 'run-once' })
    const stopped = await make('stopped', { startupState: 'started' })
    expect((await c.request('schedule/stop', { id: stopped })).status).toBe('ok')
    await c.end()
    await first.stop()

    // Down for three hours: three runs of each schedule were due.
    const clock = new ManualClock(Date.parse('2026-03-01T03:30:00Z'))
    const second = await startScheduleApp(clock, { dataDir, taskCalls })
    c = await connect(second.mqttUrl)
    try {
      await expect.poll(() => taskCalls).toEqual([{ taskIds: ['task-once'] }])
      const get = async (id: string) => {
        const env = await c.request<View>('schedule/get', { id })
        return env.status === 'ok' ? env.data : {}
      }
      expect(await get(skip)).toMatchObject({
        nextRun: '2026-03-01T04:00:00.000Z',
        lastRun: null,
        lastResult: { status: 'skipped', reason: 'missed' },
      })
      await expect.poll(async () => (await get(once)).lastResult?.status).toBe('ok')
      expect(await get(once)).toMatchObject({
        lastRun: '2026-03-01T03:30:00.000Z',
        nextRun: '2026-03-01T04:00:00.000Z',
      })
      // Stopped before the restart, stopped after it (Butler restarted from startupState instead).
      expect(await get(stopped)).toMatchObject({ enabled: false, nextRun: null, startupState: 'started' })
      await clock.advanceTo('2026-03-01T04:00:00Z')
      await expect.poll(() => taskCalls.length).toBe(3)
    } finally {
      await c.end()
      await second.stop()
      await rm(dataDir, { recursive: true, force: true })
    }
  })
})
