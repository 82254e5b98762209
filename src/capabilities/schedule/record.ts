import type { Identity } from '../../core/identity.js'
import type { LastResult, ScheduleView } from './schema.js'

/** What the store keeps per schedule: its definition, who stands behind it, and its run state. */
export interface ScheduleRecord {
  id: string
  name: string
  cron: string
  timezone: string
  target: { capability: string; request: Record<string, unknown> }
  enabled: boolean
  startAt: string | null
  endAt: string | null
  missedRuns: 'skip' | 'run-once'
  allowOverlap: boolean
  timeoutMs: number | null
  tags: string[]
  startupState: 'start' | 'started' | 'stop' | 'stopped'
  created: string
  updated: string
  /** Whoever defined what the schedule runs: its requests go out under this identity. */
  owner: Identity
  nextRun: string | null
  lastRun: string | null
  lastResult: LastResult | null
}

export function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString()
}

export function timingOf(rec: ScheduleRecord) {
  return {
    cron: rec.cron,
    timezone: rec.timezone,
    startAt: rec.startAt === null ? undefined : Date.parse(rec.startAt),
    endAt: rec.endAt === null ? undefined : Date.parse(rec.endAt),
  }
}

export function toView(rec: ScheduleRecord, running: number): ScheduleView {
  return {
    id: rec.id,
    name: rec.name,
    cron: rec.cron,
    timezone: rec.timezone,
    target: rec.target,
    enabled: rec.enabled,
    startAt: rec.startAt,
    endAt: rec.endAt,
    missedRuns: rec.missedRuns,
    allowOverlap: rec.allowOverlap,
    timeoutMs: rec.timeoutMs,
    tags: rec.tags,
    startupState: rec.startupState,
    created: rec.created,
    updated: rec.updated,
    owner: { via: rec.owner.via, ...(rec.owner.user !== undefined ? { user: rec.owner.user } : {}) },
    nextRun: rec.nextRun,
    lastRun: rec.lastRun,
    lastResult: rec.lastResult,
    running,
  }
}
