import { Cron } from 'croner'
import { instantOf, wallOf } from './zone.js'

export interface Timing {
  cron: string
  timezone: string
  /** Epoch ms: no run before. */
  startAt?: number | undefined
  /** Epoch ms: no run after. */
  endAt?: number | undefined
}

const patterns = new Map<string, Cron>()
const MAX_CACHED = 10_000

/** Cron matching runs on wall time written as UTC, so croner never sees a daylight-saving jump. */
function wallPattern(cron: string): Cron {
  let pattern = patterns.get(cron)
  if (!pattern) {
    pattern = new Cron(cron, { timezone: 'UTC', paused: true })
    if (patterns.size >= MAX_CACHED) patterns.clear()
    patterns.set(cron, pattern)
  }
  return pattern
}

/** Why a cron expression is refused, or undefined when it is fine. */
export function cronProblem(cron: string): string | undefined {
  const trimmed = cron.trim()
  const fields = trimmed.split(/\s+/).length
  if (!trimmed.startsWith('@') && fields !== 5 && fields !== 6)
    return `must have 5 fields (minute hour day month weekday) or 6 (seconds first), not ${fields}`
  try {
    if (!wallPattern(trimmed).nextRun(new Date(0))) return 'never matches a date'
  } catch (err) {
    return (err as Error).message.replace(/^CronPattern: /, '')
  }
  return undefined
}

// Enough for a per-second pattern to step through a repeated hour.
const MAX_STEPS = 10_000

/**
 * The first run strictly after `from` (epoch ms), or undefined when there is none (past the end
 * date, or a pattern that never matches again). Daylight saving: a wall time inside a
 * spring-forward gap runs once, at the first instant after the gap; a wall time that happens
 * twice in a fall-back overlap runs once, at its first occurrence.
 */
export function nextRunAfter(timing: Timing, from: number): number | undefined {
  const pattern = wallPattern(timing.cron.trim())
  // A run exactly at the start date counts.
  const lower = timing.startAt !== undefined && timing.startAt > from ? timing.startAt - 1 : from
  let wall = wallOf(lower, timing.timezone)
  for (let step = 0; step < MAX_STEPS; step++) {
    const next = pattern.nextRun(new Date(wall))
    if (!next) return undefined
    wall = next.getTime()
    const at = instantOf(wall, timing.timezone)
    // Not after `lower`: the wall time's first occurrence is already past (we are in a repeated hour).
    if (at <= lower) continue
    return timing.endAt !== undefined && at > timing.endAt ? undefined : at
  }
  return undefined
}
