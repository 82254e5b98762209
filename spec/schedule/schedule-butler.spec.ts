import { afterEach, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import type { TestApp } from '../helpers/app.js'
import { ManualClock, startScheduleApp } from './schedule-harness.js'

let app: TestApp | undefined
afterEach(async () => {
  await app?.stop({ clean: true })
  app = undefined
})

const TASK = 'e3b27f50-b1c0-4c52-a6ea-6e1e5a4b1c2d'

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`${app?.httpUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : undefined }
}

describe("Butler's /v4/schedules routes", () => {
  it('create, list, update, start/stop, status and delete answer as Butler did', async () => {
    const taskCalls: unknown[] = []
    const clock = new ManualClock(Date.parse('2026-03-01T00:00:00Z'))
    app = await startScheduleApp(clock, { taskCalls })
    const body = {
      name: 'Hourly sales',
      cronSchedule: '0 * * * *',
      timezone: 'Europe/Stockholm',
      qlikSenseTaskId: TASK,
      startupState: 'started',
      tags: ['sales'],
    }
    const created = await call('POST', '/v4/schedules', body)
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ ...body, lastKnownState: 'started' })
    const id = created.body.id as string

    const invalid = await call('POST', '/v4/schedules', { ...body, cronSchedule: 'every hour' })
    expect(invalid.status).toBe(400)
    expect(invalid.body.details.map((d: { path: string }) => d.path)).toEqual(['/cron'])
    const missing = await call('POST', '/v4/schedules', { name: 'x' })
    expect(missing.status).toBe(400)

    expect((await call('GET', '/v4/schedules')).body).toHaveLength(1)
    expect((await call('GET', `/v4/schedules?id=${id}`)).body[0].id).toBe(id)
    expect((await call('GET', '/v4/schedules?id=nope')).status).toBe(400)

    const updated = await call('PUT', `/v4/schedules/${id}`, { cronSchedule: '30 * * * *' })
    expect(updated.status).toBe(200)
    expect(updated.body.cronSchedule).toBe('30 * * * *')

    const stopped = await call('PUT', `/v4/schedules/${id}/stop`)
    expect(stopped.status).toBe(200)
    expect(stopped.body[0].lastKnownState).toBe('stopped')
    expect((await call('GET', '/v4/schedules/status')).body).toContain('status: Stopped')
    const all = await call('PUT', '/v4/schedules/startall')
    expect(all.body[0].lastKnownState).toBe('started')

    await clock.advanceTo('2026-03-01T00:30:00Z')
    await expect.poll(() => taskCalls).toEqual([{ taskIds: [TASK] }])

    expect((await call('PUT', '/v4/schedules/nope/start')).status).toBe(400)
    expect((await call('DELETE', `/v4/schedules/${id}`)).status).toBe(204)
    expect((await call('DELETE', `/v4/schedules/${id}`)).status).toBe(400)
  })

  it("round-trips Butler's schedule file through import and export", async () => {
    app = await startScheduleApp(new ManualClock(Date.parse('2026-03-01T00:00:00Z')))
    const yaml = [
      'butlerSchedule:',
      '  - name: Every 30 min',
      "    cronSchedule: '*/30 * * * *'",
      '    timezone: America/New_York',
      `    qlikSenseTaskId: ${TASK}`,
      '    startupState: start',
      '    tags:',
      '      - a',
      '    id: b1',
      "    created: '2025-01-01T00:00:00.000Z'",
      '    lastKnownState: stopped',
      '',
    ].join('\n')
    const imported = await call('POST', '/api/v1/schedule/import', { yaml })
    expect(imported.body).toEqual({ created: ['b1'], updated: [] })
    const exported = await call('POST', '/api/v1/schedule/export', {})
    expect(exported.body.butlerSchedule).toEqual([
      {
        name: 'Every 30 min',
        cronSchedule: '*/30 * * * *',
        timezone: 'America/New_York',
        qlikSenseTaskId: TASK,
        startupState: 'start',
        tags: ['a'],
        id: 'b1',
        created: '2025-01-01T00:00:00.000Z',
        lastKnownState: 'stopped',
      },
    ])
    expect(parse(exported.body.yaml)).toEqual(parse(yaml))
    const again = await call('POST', '/api/v1/schedule/import', { yaml: exported.body.yaml })
    expect(again.body).toEqual({ created: [], updated: ['b1'] })

    const bad = await call('POST', '/api/v1/schedule/import', {
      yaml: yaml.replace('America/New_York', 'Nowhere/Land'),
    })
    expect(bad.status).toBe(400)
    expect(bad.body.details[0].path).toBe('/butlerSchedule/0/timezone')
  })
})
