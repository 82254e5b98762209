import { type Static, Type } from '@sinclair/typebox'
import { closed, isoDateTime, limit, nullable, section } from '../../core/schema.js'

export const scheduleId = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: '^[^\\u0000-\\u001f]+$',
  description: 'Schedule id: a UUID for schedules created here; any text for ones imported from Butler',
})
const name = Type.String({ minLength: 1, maxLength: 256, description: 'Free text' })
const cron = Type.String({
  minLength: 1,
  maxLength: 256,
  description: 'Cron expression: 5 fields (minute hour day month weekday) or 6 (seconds first)',
})
const timezone = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'IANA time zone the cron expression is read in (Europe/Stockholm); default from config',
})
const capabilityName = Type.String({ pattern: '^[a-z0-9-]+/[a-z0-9-]+$', maxLength: 128 })

export const target = closed(
  {
    capability: Type.Optional({ ...capabilityName, description: 'Capability to call; default task/start' }),
    request: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), { description: "The capability's request; default {}" }),
    ),
  },
  { description: 'The request the schedule issues, with the identity of whoever defined it' },
)
export const missedRuns = Type.Union([Type.Literal('skip'), Type.Literal('run-once')], {
  description: 'Runs due while sensebus was down: skip them, or run once at start-up',
})
const tags = Type.Array(Type.String({ maxLength: 256 }), { maxItems: 64, description: 'Informational labels' })
const timeoutMs = Type.Integer({ minimum: 1, description: 'How long a run may take before it counts as failed' })
const startupState = Type.Union(
  [Type.Literal('start'), Type.Literal('started'), Type.Literal('stop'), Type.Literal('stopped')],
  {
    description: "Butler's startupState, kept for export; a restart resumes each schedule in its last state",
  },
)

/** Fields create and update share, all optional. */
const settings = {
  timezone: Type.Optional(timezone),
  target: Type.Optional(target),
  qlikSenseTaskId: Type.Optional(
    Type.String({ minLength: 1, maxLength: 64, description: 'Shorthand for target task/start {taskIds: [id]}' }),
  ),
  enabled: Type.Optional(Type.Boolean({ description: 'Started (true, the default) or stopped' })),
  startAt: Type.Optional(nullable(isoDateTime('No run before this instant'))),
  endAt: Type.Optional(nullable(isoDateTime('No run after this instant'))),
  missedRuns: Type.Optional(missedRuns),
  allowOverlap: Type.Optional(
    Type.Boolean({ description: 'Start a run while the previous one is still going (default false)' }),
  ),
  timeoutMs: Type.Optional(nullable(timeoutMs)),
  tags: Type.Optional(tags),
  startupState: Type.Optional(startupState),
}

export const createRequest = closed({ name, cron, ...settings })
export type CreateInput = Static<typeof createRequest>

export const updateRequest = closed({
  id: scheduleId,
  name: Type.Optional(name),
  cron: Type.Optional(cron),
  ...settings,
})
export type UpdateInput = Static<typeof updateRequest>

const trigger = Type.Union([Type.Literal('schedule'), Type.Literal('missed'), Type.Literal('manual')])

export const lastResult = closed({
  status: Type.Union([Type.Literal('ok'), Type.Literal('error'), Type.Literal('skipped')]),
  at: isoDateTime('When the run finished (or was skipped)'),
  trigger: Type.Optional(trigger),
  transaction: Type.Optional(Type.String()),
  durationMs: Type.Optional(Type.Number()),
  reason: Type.Optional(Type.Union([Type.Literal('overlap'), Type.Literal('missed')])),
  error: Type.Optional(closed({ code: Type.String(), message: Type.String() })),
})
export type LastResult = Static<typeof lastResult>

export const scheduleView = closed({
  id: scheduleId,
  name,
  cron,
  timezone,
  target: closed({ capability: capabilityName, request: Type.Record(Type.String(), Type.Unknown()) }),
  enabled: Type.Boolean(),
  startAt: nullable(isoDateTime()),
  endAt: nullable(isoDateTime()),
  missedRuns,
  allowOverlap: Type.Boolean(),
  timeoutMs: nullable(timeoutMs),
  tags,
  startupState,
  created: isoDateTime(),
  updated: isoDateTime(),
  owner: closed({ via: Type.String(), user: Type.Optional(Type.String()) }),
  nextRun: nullable(isoDateTime()),
  lastRun: nullable(isoDateTime()),
  lastResult: nullable(lastResult),
  running: Type.Integer({ minimum: 0, description: 'Runs in flight' }),
})
export type ScheduleView = Static<typeof scheduleView>

export const idRequest = closed({ id: scheduleId })
export const listRequest = closed({
  id: Type.Optional(scheduleId),
  tag: Type.Optional(Type.String({ description: 'Only schedules with this tag' })),
})
export const listResult = closed({ schedules: Type.Array(scheduleView) })
export const deleteResult = closed({ id: scheduleId, deleted: Type.Literal(true) })
export const emptyRequest = closed({})
export const statusResult = closed({
  schedules: Type.Array(
    closed({
      id: scheduleId,
      name,
      cron,
      state: Type.Union([Type.Literal('running'), Type.Literal('stopped')]),
      nextRun: nullable(isoDateTime()),
      lastRun: nullable(isoDateTime()),
      running: Type.Integer({ minimum: 0 }),
    }),
  ),
  text: Type.String({ description: "The listing as Butler's GET /v4/schedules/status answered it" }),
})
export const runNowResult = closed({
  id: scheduleId,
  transaction: Type.String({ description: 'The transaction of the request the run issued' }),
  firedAt: isoDateTime(),
})

/** One entry of Butler's schedule file (`butlerSchedule:`). */
export const butlerEntry = Type.Object({
  name: Type.String(),
  cronSchedule: Type.String(),
  timezone: Type.Optional(Type.String()),
  qlikSenseTaskId: Type.String({ minLength: 1 }),
  startupState: Type.Optional(startupState),
  tags: Type.Optional(Type.Array(Type.String())),
  id: Type.Optional(Type.String()),
  created: Type.Optional(Type.String()),
  lastKnownState: Type.Optional(Type.Union([Type.Literal('started'), Type.Literal('stopped')])),
})
export type ButlerEntry = Static<typeof butlerEntry>

export const importRequest = closed({
  yaml: Type.Optional(Type.String({ description: "Butler's schedule file as text (YAML or JSON)" })),
  butlerSchedule: Type.Optional(Type.Array(butlerEntry, { description: 'The entries, already parsed' })),
})
export const importResult = closed({
  created: Type.Array(scheduleId),
  updated: Type.Array(scheduleId),
})
export const exportResult = closed({
  butlerSchedule: Type.Array(butlerEntry),
  yaml: Type.String({ description: "The same as Butler's schedule file" }),
  skipped: Type.Array(closed({ id: scheduleId, reason: Type.String() }), {
    description: 'Schedules Butler cannot express (a target other than one task/start task id)',
  }),
})

export const firedEvent = closed({
  scheduleId,
  name,
  trigger: trigger,
  scheduledFor: nullable(isoDateTime()),
  firedAt: isoDateTime(),
  capability: capabilityName,
  transaction: Type.String(),
})
export const finishedEvent = closed({
  scheduleId,
  name,
  capability: capabilityName,
  transaction: Type.String(),
  status: Type.Union([Type.Literal('ok'), Type.Literal('error')]),
  firedAt: isoDateTime(),
  finishedAt: isoDateTime(),
  durationMs: Type.Number(),
  error: Type.Optional(closed({ code: Type.String(), message: Type.String() })),
})
export const skippedEvent = closed({
  scheduleId,
  name,
  reason: Type.Union([Type.Literal('overlap'), Type.Literal('missed')]),
  scheduledFor: nullable(isoDateTime()),
  at: isoDateTime(),
})

export const configSchema = section({
  defaultTimezone: Type.String({
    default: '',
    description: "IANA zone for schedules that name none; empty = the host's zone",
  }),
  defaultMissedRuns: Type.Union([Type.Literal('skip'), Type.Literal('run-once')], {
    default: 'skip',
    description: 'Missed-run policy of schedules that name none',
  }),
  maxSchedules: limit(10_000, 'Schedules sensebus may hold'),
  maxRequestBytes: limit(64 * 1024, 'Largest target request (JSON bytes) a schedule may carry'),
  runTimeoutMs: limit(15 * 60_000, 'How long a run may take when its schedule names no timeoutMs'),
  maxTimeoutMs: limit(24 * 3600_000, 'Largest timeoutMs a schedule may name'),
  sharedSyncMs: limit(2000, 'Shared store (redis): how often schedules written by other instances are picked up'),
})
export type ScheduleConfig = Static<typeof configSchema>
