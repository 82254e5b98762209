import { defineModule } from '../../core/capability.js'
import { type Clock, systemClock } from './clock.js'
import type { ScheduleState } from './context.js'
import { controlCapabilities } from './control.js'
import { scheduleCreate, scheduleDelete, scheduleExample, scheduleGet, scheduleList, scheduleUpdate } from './crud.js'
import type { ScheduleRecord } from './record.js'
import { Scheduler } from './scheduler.js'
import * as s from './schema.js'
import { transferCapabilities } from './transfer.js'
import { isValidZone } from './zone.js'

/**
 * The scheduler module. `createScheduleModule({ clock })` lets specs drive time by hand; the
 * registry uses the system clock.
 */
export function createScheduleModule(opts: { clock?: Clock } = {}) {
  const clock = opts.clock ?? systemClock
  return defineModule<ScheduleState, s.ScheduleConfig>({
    area: 'schedule',
    summary: 'Cron schedules in IANA time zones that start tasks or issue any request, durable across restarts',
    configSchema: s.configSchema,
    needs: ['store'],
    async setup({ config, services, bus, topics, log }) {
      const defaultTimezone = config.defaultTimezone || Intl.DateTimeFormat().resolvedOptions().timeZone
      if (!isValidZone(defaultTimezone))
        throw new Error(`capabilities.schedule.defaultTimezone: '${defaultTimezone}' is not an IANA time zone`)
      const resolved = { ...config, defaultTimezone }
      const collection = services.store.collection<ScheduleRecord>('schedules')
      const { store } = services
      const shared = store.shared
        ? { leases: store.collection<string>('schedule-tick'), instance: bus.id, syncMs: config.sharedSyncMs }
        : undefined
      const scheduler = new Scheduler({
        collection,
        bus,
        topics,
        log,
        clock,
        config: resolved,
        ...(shared ? { shared } : {}),
      })
      await scheduler.load()
      const stopReconnect = bus.onReconnect(() => scheduler.republish())
      return { scheduler, config: resolved, stopReconnect }
    },
    async start(state) {
      await state.scheduler.start()
      return () => state.scheduler.stop()
    },
    async teardown(state) {
      state.stopReconnect?.()
      await state.scheduler.stop()
    },
    capabilities: [
      scheduleCreate,
      scheduleGet,
      scheduleList,
      scheduleUpdate,
      scheduleDelete,
      ...controlCapabilities,
      ...transferCapabilities,
    ],
    publishes: [
      {
        topic: 'state/schedule/{id}',
        kind: 'state',
        summary: 'Retained per schedule (id URI-encoded): its definition, nextRun, lastRun and lastResult',
        schema: s.scheduleView,
        example: scheduleExample,
      },
      {
        topic: 'event/schedule/{id}/fired',
        kind: 'event',
        summary: 'A schedule issued its request (on time, as a missed run at start-up, or by run-now)',
        schema: s.firedEvent,
        example: {
          scheduleId: scheduleExample.id,
          name: scheduleExample.name,
          trigger: 'schedule',
          scheduledFor: '2026-11-28T14:00:00.000Z',
          firedAt: '2026-11-28T14:00:00.003Z',
          capability: 'task/start',
          transaction: `schedule:${scheduleExample.id}:1764338400003:7`,
        },
      },
      {
        topic: 'event/schedule/{id}/finished',
        kind: 'event',
        summary: "The request's answer came: ok, or error with its code (also kept as the schedule's lastResult)",
        schema: s.finishedEvent,
        example: {
          scheduleId: scheduleExample.id,
          name: scheduleExample.name,
          capability: 'task/start',
          transaction: `schedule:${scheduleExample.id}:1764338400003:7`,
          status: 'error',
          firedAt: '2026-11-28T14:00:00.003Z',
          finishedAt: '2026-11-28T14:00:00.250Z',
          durationMs: 247,
          error: { code: 'SENSE_TASK_NOT_FOUND', message: 'No task e3b27f50-b1c0-4c52-a6ea-6e1e5a4b1c2d' },
        },
      },
      {
        topic: 'event/schedule/{id}/skipped',
        kind: 'event',
        summary: 'A due run did not start: the previous run was still going (overlap), or it was missed while down',
        schema: s.skippedEvent,
        example: {
          scheduleId: scheduleExample.id,
          name: scheduleExample.name,
          reason: 'overlap',
          scheduledFor: '2026-11-28T15:00:00.000Z',
          at: '2026-11-28T15:00:00.001Z',
        },
      },
    ],
  })
}

export default createScheduleModule()
