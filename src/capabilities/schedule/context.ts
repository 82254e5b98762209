import { randomUUID } from 'node:crypto'
import { capabilityWith, type HandlerContext } from '../../core/capability.js'
import { CapabilityError } from '../../core/errors.js'
import { type Definition, defineSchedule } from './define.js'
import type { ScheduleConfig, ScheduleView } from './schema.js'
import type { Scheduler } from './scheduler.js'

export interface ScheduleState {
  scheduler: Scheduler
  /** The module's config with the default time zone resolved. */
  config: ScheduleConfig
  stopReconnect?: () => void
}

export const scheduleCapability = capabilityWith<ScheduleState, ScheduleConfig>()

// Butler answers 400 for an unknown schedule id on every route that takes one.
export const BUTLER_SCHEDULE_ERRORS = { NOT_FOUND: 400 } as const

type Ctx = HandlerContext<ScheduleState, ScheduleConfig>

export function defineContextOf(ctx: Ctx) {
  return {
    config: ctx.state.config,
    identity: ctx.identity,
    now: ctx.state.scheduler.now(),
    capabilities: ctx.app.capabilities(),
  }
}

/** A new schedule (id and creation time given when it comes from Butler's file). */
export async function createSchedule(
  ctx: Ctx,
  definition: Definition,
  opts: { id?: string; created?: string } = {},
): Promise<ScheduleView> {
  const { scheduler, config } = ctx.state
  if (scheduler.size >= config.maxSchedules)
    throw new CapabilityError('LIMIT_EXCEEDED', `At most ${config.maxSchedules} schedules (schedule.maxSchedules)`)
  const id = opts.id ?? randomUUID()
  if (scheduler.has(id)) throw new CapabilityError('CONFLICT', `Schedule '${id}' already exists`, { details: { id } })
  const rec = defineSchedule(id, definition, defineContextOf(ctx))
  if (opts.created !== undefined && !Number.isNaN(Date.parse(opts.created))) rec.created = opts.created
  return scheduler.put(rec, true)
}

export async function updateSchedule(ctx: Ctx, id: string, definition: Definition): Promise<ScheduleView> {
  const { scheduler } = ctx.state
  const base = scheduler.record(id)
  const rec = defineSchedule(id, definition, defineContextOf(ctx), base)
  const replan =
    rec.cron !== base.cron ||
    rec.timezone !== base.timezone ||
    rec.enabled !== base.enabled ||
    rec.startAt !== base.startAt ||
    rec.endAt !== base.endAt
  return scheduler.put(rec, replan)
}
