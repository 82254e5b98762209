import { Type } from '@sinclair/typebox'
import { butlerScheduleSchema, toButler } from './butler.js'
import { BUTLER_SCHEDULE_ERRORS, scheduleCapability } from './context.js'
import { scheduleExample as example } from './crud.js'
import * as s from './schema.js'

const started = scheduleCapability({
  name: 'schedule/start',
  summary: 'Start a schedule: it runs from its next due time on (runs missed while stopped are not made up)',
  request: s.idRequest,
  result: s.scheduleView,
  example: { request: { id: example.id }, result: example },
  routes: [
    {
      method: 'PUT',
      path: '/v4/schedules/:scheduleId/start',
      butlerFlag: 'startSchedule',
      toRequest: ({ params }) => ({ id: params.scheduleId ?? '' }),
      toBody: (d) => [toButler(d)],
      response: Type.Array(butlerScheduleSchema),
      errorStatus: BUTLER_SCHEDULE_ERRORS,
    },
  ],
  async handle(req, { state }) {
    return state.scheduler.setEnabled(req.id, true)
  },
})

const stopped = scheduleCapability({
  name: 'schedule/stop',
  summary: 'Stop a schedule; a run in flight finishes',
  request: s.idRequest,
  result: s.scheduleView,
  example: { request: { id: example.id }, result: { ...example, enabled: false, nextRun: null } },
  routes: [
    {
      method: 'PUT',
      path: '/v4/schedules/:scheduleId/stop',
      butlerFlag: 'stopSchedule',
      toRequest: ({ params }) => ({ id: params.scheduleId ?? '' }),
      toBody: (d) => [toButler(d)],
      response: Type.Array(butlerScheduleSchema),
      errorStatus: BUTLER_SCHEDULE_ERRORS,
    },
  ],
  async handle(req, { state }) {
    return state.scheduler.setEnabled(req.id, false)
  },
})

async function setAll(enabled: boolean, state: { scheduler: import('./scheduler.js').Scheduler }) {
  for (const view of state.scheduler.views()) await state.scheduler.setEnabled(view.id, enabled)
  return { schedules: state.scheduler.views() }
}

const startAll = scheduleCapability({
  name: 'schedule/start-all',
  summary: 'Start every schedule',
  request: s.emptyRequest,
  result: s.listResult,
  example: { request: {}, result: { schedules: [example] } },
  routes: [
    {
      method: 'PUT',
      path: '/v4/schedules/startall',
      butlerFlag: 'startSchedule',
      toRequest: () => ({}),
      toBody: (d) => d.schedules.map(toButler),
      response: Type.Array(butlerScheduleSchema),
    },
  ],
  async handle(_req, { state }) {
    return setAll(true, state)
  },
})

const stopAll = scheduleCapability({
  name: 'schedule/stop-all',
  summary: 'Stop every schedule',
  request: s.emptyRequest,
  result: s.listResult,
  example: { request: {}, result: { schedules: [{ ...example, enabled: false, nextRun: null }] } },
  routes: [
    {
      method: 'PUT',
      path: '/v4/schedules/stopall',
      butlerFlag: 'stopSchedule',
      toRequest: () => ({}),
      toBody: (d) => d.schedules.map(toButler),
      response: Type.Array(butlerScheduleSchema),
    },
  ],
  async handle(_req, { state }) {
    return setAll(false, state)
  },
})

const status = scheduleCapability({
  name: 'schedule/status',
  summary: 'Whether each schedule is running or stopped, with its next and last run',
  request: s.emptyRequest,
  result: s.statusResult,
  roles: ['observer', 'loadscript'],
  example: {
    request: {},
    result: {
      schedules: [
        {
          id: example.id,
          name: example.name,
          cron: example.cron,
          state: 'running',
          nextRun: example.nextRun,
          lastRun: example.lastRun,
          running: 0,
        },
      ],
      text: `{'${example.id}': ${example.cron} status: Running}`,
    },
  },
  routes: [
    {
      method: 'GET',
      path: '/v4/schedules/status',
      butlerFlag: 'getScheduleStatusAll',
      toRequest: () => ({}),
      toBody: (d) => d.text,
      response: Type.String({ description: 'One line per schedule, as Butler prints it' }),
    },
  ],
  async handle(_req, { state }) {
    const schedules = state.scheduler.views().map((v) => ({
      id: v.id,
      name: v.name,
      cron: v.cron,
      state: v.enabled ? ('running' as const) : ('stopped' as const),
      nextRun: v.nextRun,
      lastRun: v.lastRun,
      running: v.running,
    }))
    // Butler answered with cron-job-manager's listing, one "<id>: <cron> status: ..." per job.
    const text = `{${schedules
      .map((x) => `'${x.id}': ${x.cron} status: ${x.state === 'running' ? 'Running' : 'Stopped'}`)
      .join(',\n ')}}`
    return { schedules, text }
  },
})

const runNow = scheduleCapability({
  name: 'schedule/run-now',
  summary: "Run a schedule's request now, outside its plan (CONFLICT while a run is going and overlap is off)",
  description: 'Answers once the request is sent; the outcome comes as the finished event and in the retained state.',
  request: s.idRequest,
  result: s.runNowResult,
  example: {
    request: { id: example.id },
    result: { id: example.id, transaction: `schedule:${example.id}:1764300000000:1`, firedAt: example.lastRun },
  },
  async handle(req, { state }) {
    return { id: req.id, ...state.scheduler.runNow(req.id) }
  },
})

export const controlCapabilities = [started, stopped, startAll, stopAll, status, runNow]
