import { Type } from '@sinclair/typebox'
import { butlerScheduleSchema, fromButlerBody, requireButlerFields, toButler } from './butler.js'
import { BUTLER_SCHEDULE_ERRORS, createSchedule, scheduleCapability, updateSchedule } from './context.js'
import * as s from './schema.js'

const example = {
  id: '5b8f7e2c-2f57-4a55-9a4e-0b7e8c1d2e3f',
  name: 'Sales reload, hourly 03-15 Stockholm time',
  cron: '0 3-15 * * 1-5',
  timezone: 'Europe/Stockholm',
  target: { capability: 'task/start', request: { taskIds: ['e3b27f50-b1c0-4c52-a6ea-6e1e5a4b1c2d'] } },
  enabled: true,
  startAt: null,
  endAt: null,
  missedRuns: 'skip' as const,
  allowOverlap: false,
  timeoutMs: null,
  tags: ['sales'],
  startupState: 'started' as const,
  created: '2026-11-28T10:00:00.000Z',
  updated: '2026-11-28T10:00:00.000Z',
  owner: { via: 'mqtt', user: 'etl-admin' },
  nextRun: '2026-11-30T02:00:00.000Z',
  lastRun: '2026-11-28T14:00:00.000Z',
  lastResult: { status: 'ok' as const, at: '2026-11-28T14:00:00.412Z', trigger: 'schedule' as const, durationMs: 412 },
  running: 0,
}
export { example as scheduleExample }

export const scheduleCreate = scheduleCapability({
  name: 'schedule/create',
  summary: 'Create a cron schedule that issues a request (task/start by default) in a time zone',
  description:
    'An invalid cron expression or time zone is VALIDATION_FAILED naming the field; nothing invalid is stored.',
  request: s.createRequest,
  result: s.scheduleView,
  example: {
    request: {
      name: example.name,
      cron: example.cron,
      timezone: example.timezone,
      target: example.target,
      tags: example.tags,
    },
    result: { ...example, nextRun: null, lastRun: null, lastResult: null },
  },
  routes: [
    {
      method: 'POST',
      path: '/v4/schedules',
      butlerFlag: 'createNewSchedule',
      toRequest: ({ body }) => fromButlerBody(requireButlerFields(body)) as never,
      status: 201,
      toBody: toButler,
      response: butlerScheduleSchema,
    },
  ],
  async handle(req, ctx) {
    return createSchedule(ctx, req)
  },
})

export const scheduleUpdate = scheduleCapability({
  name: 'schedule/update',
  summary: 'Change a schedule; only the fields given change, and its next run is replanned',
  description: 'Changing the target makes the caller its owner: later runs go out under the caller\u2019s identity.',
  request: s.updateRequest,
  result: s.scheduleView,
  example: { request: { id: example.id, cron: '0 4-16 * * 1-5' }, result: { ...example, cron: '0 4-16 * * 1-5' } },
  routes: [
    {
      method: 'PUT',
      path: '/v4/schedules/:scheduleId',
      butlerFlag: 'updateSchedule',
      toRequest: ({ params, body }) =>
        ({ ...fromButlerBody((body ?? {}) as Record<string, unknown>), id: params.scheduleId ?? '' }) as never,
      toBody: toButler,
      response: butlerScheduleSchema,
      errorStatus: BUTLER_SCHEDULE_ERRORS,
    },
  ],
  async handle(req, ctx) {
    const { id, ...definition } = req
    return updateSchedule(ctx, id, definition)
  },
})

export const scheduleGet = scheduleCapability({
  name: 'schedule/get',
  summary: 'One schedule with its next run, last run and last result',
  request: s.idRequest,
  result: s.scheduleView,
  roles: ['observer', 'loadscript'],
  example: { request: { id: example.id }, result: example },
  async handle(req, { state }) {
    return state.scheduler.view(req.id)
  },
})

export const scheduleList = scheduleCapability({
  name: 'schedule/list',
  summary: 'Every schedule (or the one with id, or those with a tag)',
  request: s.listRequest,
  result: s.listResult,
  roles: ['observer', 'loadscript'],
  example: { request: {}, result: { schedules: [example] } },
  routes: [
    {
      method: 'GET',
      path: '/v4/schedules',
      butlerFlag: 'getSchedule',
      query: ['id'],
      toRequest: ({ query }) => (query.id !== undefined ? { id: query.id } : {}),
      toBody: (d) => d.schedules.map(toButler),
      response: Type.Array(butlerScheduleSchema),
      errorStatus: BUTLER_SCHEDULE_ERRORS,
    },
  ],
  async handle(req, { state }) {
    if (req.id !== undefined) return { schedules: [state.scheduler.view(req.id)] }
    const all = state.scheduler.views()
    return { schedules: req.tag === undefined ? all : all.filter((v) => v.tags.includes(req.tag as string)) }
  },
})

export const scheduleDelete = scheduleCapability({
  name: 'schedule/delete',
  summary: 'Delete a schedule; a run in flight finishes, and its retained state is cleared',
  request: s.idRequest,
  result: s.deleteResult,
  example: { request: { id: example.id }, result: { id: example.id, deleted: true } },
  routes: [
    {
      method: 'DELETE',
      path: '/v4/schedules/:scheduleId',
      butlerFlag: 'deleteSchedule',
      toRequest: ({ params }) => ({ id: params.scheduleId ?? '' }),
      status: 204,
      errorStatus: BUTLER_SCHEDULE_ERRORS,
    },
  ],
  async handle(req, { state }) {
    await state.scheduler.remove(req.id)
    return { id: req.id, deleted: true as const }
  },
})
