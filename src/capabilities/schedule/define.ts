import { CapabilityError } from '../../core/errors.js'
import type { Identity } from '../../core/identity.js'
import type { SchemaIssue } from '../../core/validate.js'
import { cronProblem } from './next-run.js'
import type { ScheduleRecord } from './record.js'
import type { CreateInput, ScheduleConfig } from './schema.js'
import { isValidZone } from './zone.js'

export const DEFAULT_CAPABILITY = 'task/start'

export interface DefineContext {
  config: ScheduleConfig
  identity: Identity
  now: number
  /** Enabled capabilities: a target must name one. */
  capabilities: readonly string[]
}

/** Settings a definition may carry, create and update alike. */
export type Definition = Partial<CreateInput>

const STARTED = new Set(['start', 'started'])

/**
 * A schedule record from a definition: a new one, or `base` with the definition's fields changed.
 * Every problem is reported at once, each naming its field, and nothing invalid is ever stored
 * (Butler stored an unparsable cron expression and answered 201).
 */
export function defineSchedule(
  id: string,
  input: Definition,
  ctx: DefineContext,
  base?: ScheduleRecord,
): ScheduleRecord {
  const issues: SchemaIssue[] = []
  const now = new Date(ctx.now).toISOString()
  const cron = (input.cron ?? base?.cron ?? '').trim()
  const timezone = input.timezone ?? base?.timezone ?? ctx.config.defaultTimezone
  const problem = cronProblem(cron)
  if (problem) issues.push({ path: '/cron', message: problem })
  if (!isValidZone(timezone)) issues.push({ path: '/timezone', message: `'${timezone}' is not an IANA time zone` })

  let target = base?.target
  if (input.target !== undefined && input.qlikSenseTaskId !== undefined)
    issues.push({ path: '/qlikSenseTaskId', message: 'give target or qlikSenseTaskId, not both' })
  else if (input.qlikSenseTaskId !== undefined)
    target = { capability: DEFAULT_CAPABILITY, request: { taskIds: [input.qlikSenseTaskId] } }
  else if (input.target !== undefined)
    target = { capability: input.target.capability ?? DEFAULT_CAPABILITY, request: input.target.request ?? {} }
  if (!target) issues.push({ path: '/target', message: 'is required (or qlikSenseTaskId)' })
  else {
    if (!ctx.capabilities.includes(target.capability))
      issues.push({ path: '/target/capability', message: `no capability '${target.capability}' is enabled` })
    for (const reserved of ['transaction', 'replyTo'])
      if (reserved in target.request)
        issues.push({ path: `/target/request/${reserved}`, message: 'is set by the scheduler' })
    const bytes = Buffer.byteLength(JSON.stringify(target.request))
    if (bytes > ctx.config.maxRequestBytes)
      issues.push({ path: '/target/request', message: `must be at most ${ctx.config.maxRequestBytes} bytes` })
  }

  const startAt = input.startAt !== undefined ? input.startAt : (base?.startAt ?? null)
  const endAt = input.endAt !== undefined ? input.endAt : (base?.endAt ?? null)
  if (startAt !== null && endAt !== null && Date.parse(endAt) <= Date.parse(startAt))
    issues.push({ path: '/endAt', message: 'must be after startAt' })
  const timeoutMs = input.timeoutMs !== undefined ? input.timeoutMs : (base?.timeoutMs ?? null)
  if (timeoutMs !== null && timeoutMs > ctx.config.maxTimeoutMs)
    issues.push({ path: '/timeoutMs', message: `must be at most ${ctx.config.maxTimeoutMs}` })

  if (issues.length > 0 || !target) {
    const summary = issues.map((i) => `${i.path}: ${i.message}`).join('; ')
    throw new CapabilityError('VALIDATION_FAILED', `Schedule is invalid: ${summary}`, { details: issues })
  }

  const enabled =
    input.enabled ?? (input.startupState !== undefined ? STARTED.has(input.startupState) : (base?.enabled ?? true))
  const retargeted = input.target !== undefined || input.qlikSenseTaskId !== undefined
  return {
    id,
    name: input.name ?? base?.name ?? id,
    cron,
    timezone,
    target,
    enabled,
    startAt,
    endAt,
    missedRuns: input.missedRuns ?? base?.missedRuns ?? ctx.config.defaultMissedRuns,
    allowOverlap: input.allowOverlap ?? base?.allowOverlap ?? false,
    timeoutMs,
    tags: input.tags ?? base?.tags ?? [],
    startupState: input.startupState ?? base?.startupState ?? (enabled ? 'started' : 'stopped'),
    created: base?.created ?? now,
    updated: now,
    // Whoever chooses what runs stands behind it; renaming or retiming keeps the owner.
    owner: base && !retargeted ? base.owner : ctx.identity,
    nextRun: base?.nextRun ?? null,
    lastRun: base?.lastRun ?? null,
    lastResult: base?.lastResult ?? null,
  }
}
