import { afterEach, describe, expect, it } from 'vitest'
import { connect, type TestClient } from '../helpers/client.js'
import type { TestApp } from '../helpers/app.js'
import { ManualClock, startScheduleApp } from './schedule-harness.js'

type View = Record<string, any>
let app: TestApp | undefined
let client: TestClient | undefined

afterEach(async () => {
  await client?.end()
  await app?.stop({ clean: true })
  client = undefined
  app = undefined
})

async function boot(clock: ManualClock) {
  app = await startScheduleApp(clock)
  client = await connect(app.mqttUrl)
  return client
}

const kvTarget = (value: string) => ({
  capability: 'kv/set',
  request: { namespace: 'sched', key: 'k', value },
})

describe('schedules over MQTT', () => {
  it('refuses an invalid cron expression or time zone, naming the field, and stores nothing', async () => {
    const c = await boot(new ManualClock(Date.parse('2026-03-01T00:00:00Z')))
    const bad = await c.request('schedule/create', {
      name: 'x',
      cron: '61 * * * *',
      timezone: 'Mars/Base',
      target: kvTarget('a'),
    })
    expect(bad.status).toBe('error')
    if (bad.status !== 'error') return
    expect(bad.error.code).toBe('VALIDATION_FAILED')
    expect((bad.error.details as Array<{ path: string }>).map((d) => d.path).sort()).toEqual(['/cron', '/timezone'])
    const unknown = await c.request('schedule/create', {
      name: 'x',
      cron: '* * * * *',
      target: { capability: 'no/such' },
    })
    expect(unknown.status === 'error' && unknown.error.code).toBe('VALIDATION_FAILED')
    const list = await c.request<{ schedules: View[] }>('schedule/list')
    expect(list.status === 'ok' && list.data.schedules).toEqual([])
  })

  it('fires on time under the creator identity, records the result, publishes state and events', async () => {
    const clock = new ManualClock(Date.parse('2026-03-01T00:00:00Z'))
    const c = await boot(clock)
    const events = await c.collect('sense/event/schedule/#')
    // A second client: the requesting one was seen to miss live retained updates (left for the broker owners).
    const watcher = await connect(app?.mqttUrl as string)
    const states = await watcher.collect('sense/state/schedule/#')
    const created = await c.request<View>('schedule/create', {
      name: 'every 5 min',
      cron: '*/5 * * * *',
      timezone: 'UTC',
      target: kvTarget('fired'),
    })
    expect(created.status).toBe('ok')
    if (created.status !== 'ok') return
    const id = created.data.id
    expect(created.data.nextRun).toBe('2026-03-01T00:05:00.000Z')
    await clock.advanceTo('2026-03-01T00:05:00Z')
    await expect
      .poll(async () => {
        const got = await c.request<View>('schedule/get', { id })
        return got.status === 'ok' ? got.data.lastResult?.status : undefined
      })
      .toBe('ok')
    const got = await c.request<View>('schedule/get', { id })
    expect(got.status === 'ok' && got.data).toMatchObject({
      lastRun: '2026-03-01T00:05:00.000Z',
      nextRun: '2026-03-01T00:10:00.000Z',
      running: 0,
    })
    const value = await c.request<{ value: string }>('kv/get', { namespace: 'sched', key: 'k' })
    expect(value.status === 'ok' && value.data.value).toBe('fired')
    await expect.poll(() => events.map((e) => e.topic.split('/').at(-1))).toEqual(['fired', 'finished'])
    const finished = JSON.parse(events[1]?.payload ?? '{}')
    expect(finished.data).toMatchObject({ scheduleId: id, status: 'ok', capability: 'kv/set' })
    await expect.poll(() => JSON.parse(states.at(-1)?.payload ?? '{}').lastResult?.status).toBe('ok')
    expect(states.at(-1)?.topic).toBe(`sense/state/schedule/${id}`)
    await watcher.end()
  })

  it('records a failing target on the schedule and publishes it, and keeps going', async () => {
    const clock = new ManualClock(Date.parse('2026-03-01T00:00:00Z'))
    const c = await boot(clock)
    const events = await c.collect('sense/event/schedule/+/finished')
    const created = await c.request<View>('schedule/create', {
      name: 'fails',
      cron: '0 * * * *',
      target: { capability: 'test/throw', request: { kind: 'coded' } },
    })
    if (created.status !== 'ok') throw new Error('create failed')
    await clock.advanceTo('2026-03-01T01:00:00Z')
    await expect.poll(() => events.length).toBe(1)
    await clock.advanceTo('2026-03-01T02:00:00Z')
    await expect.poll(() => events.length).toBe(2)
    const got = await c.request<View>('schedule/get', { id: created.data.id })
    expect(got.status === 'ok' && got.data.lastResult).toMatchObject({
      status: 'error',
      error: { code: 'CONFLICT', message: 'a coded failure' },
    })
    expect(got.status === 'ok' && got.data.nextRun).toBe('2026-03-01T03:00:00.000Z')
  })

  it('does not start a second run while the first is going, unless overlap is allowed', async () => {
    const clock = new ManualClock(Date.parse('2026-03-01T00:00:00Z'))
    const c = await boot(clock)
    const events = await c.collect('sense/event/schedule/#')
    const slow = { capability: 'test/sleep', request: { ms: 800 } }
    const one = await c.request<View>('schedule/create', { name: 'one', cron: '* * * * * *', target: slow })
    const two = await c.request<View>('schedule/create', {
      name: 'two',
      cron: '* * * * * *',
      target: slow,
      allowOverlap: true,
    })
    if (one.status !== 'ok' || two.status !== 'ok') throw new Error('create failed')
    await clock.advanceTo('2026-03-01T00:00:01Z')
    await clock.advanceTo('2026-03-01T00:00:02Z')
    const kinds = (id: string) => events.filter((e) => e.topic.includes(id)).map((e) => e.topic.split('/').at(-1))
    await expect.poll(() => kinds(one.data.id)).toEqual(['fired', 'skipped'])
    await expect.poll(() => kinds(two.data.id)).toEqual(['fired', 'fired'])
    const busy = await c.request('schedule/run-now', { id: one.data.id })
    expect(busy.status === 'error' && busy.error.code).toBe('CONFLICT')
    await expect.poll(() => kinds(one.data.id).filter((k) => k === 'finished').length, { timeout: 4000 }).toBe(1)
    const now = await c.request<{ transaction: string }>('schedule/run-now', { id: one.data.id })
    expect(now.status).toBe('ok')
  })

  it('updates, stops, starts, lists status and deletes (clearing the retained state)', async () => {
    const clock = new ManualClock(Date.parse('2026-03-01T00:00:00Z'))
    const c = await boot(clock)
    const created = await c.request<View>('schedule/create', { name: 'n', cron: '0 3 * * *', target: kvTarget('u') })
    if (created.status !== 'ok') throw new Error('create failed')
    const id = created.data.id
    expect(created.data).toMatchObject({ timezone: 'Europe/Stockholm', nextRun: '2026-03-01T02:00:00.000Z' })
    const updated = await c.request<View>('schedule/update', { id, cron: '0 4 * * *', timezone: 'America/New_York' })
    expect(updated.status === 'ok' && updated.data.nextRun).toBe('2026-03-01T09:00:00.000Z')
    const badUpdate = await c.request('schedule/update', { id, timezone: 'Nowhere/Land' })
    expect(badUpdate.status === 'error' && badUpdate.error.details).toEqual([
      { path: '/timezone', message: "'Nowhere/Land' is not an IANA time zone" },
    ])
    const stopped = await c.request<View>('schedule/stop', { id })
    expect(stopped.status === 'ok' && stopped.data).toMatchObject({ enabled: false, nextRun: null })
    const status = await c.request<{ schedules: View[]; text: string }>('schedule/status')
    expect(status.status === 'ok' && status.data.schedules[0]).toMatchObject({ id, state: 'stopped' })
    const all = await c.request<{ schedules: View[] }>('schedule/start-all')
    expect(all.status === 'ok' && all.data.schedules[0]?.enabled).toBe(true)
    const watcher = await connect(app?.mqttUrl as string)
    const states = await watcher.collect(`sense/state/schedule/${id}`)
    await expect.poll(() => states.length).toBe(1)
    const deleted = await c.request('schedule/delete', { id })
    expect(deleted.status).toBe('ok')
    await expect.poll(() => states.at(-1)?.payload).toBe('')
    const gone = await c.request('schedule/get', { id })
    expect(gone.status === 'error' && gone.error.code).toBe('NOT_FOUND')
    await watcher.end()
  })
})
