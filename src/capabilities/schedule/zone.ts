/**
 * Wall-clock arithmetic in IANA time zones with nothing but Intl. A "wall time" is the local
 * date and time written as if it were UTC (epoch ms), so cron matching can run on it without any
 * daylight-saving jumps, and `instantOf` maps it back to a real instant.
 */

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
    formatters.set(zone, f)
  }
  return f
}

/** Whether Intl knows the zone (IANA names, `UTC`). */
export function isValidZone(zone: string): boolean {
  try {
    formatter(zone)
    return true
  } catch {
    return false
  }
}

/** The local date and time at an instant, as wall-time ms. */
export function wallOf(instant: number, zone: string): number {
  const parts: Record<string, number> = {}
  for (const p of formatter(zone).formatToParts(new Date(instant))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value)
  }
  const wall = Date.UTC(
    parts.year ?? 1970,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
    parts.second ?? 0,
  )
  // Intl has no milliseconds field; they never differ between wall time and instant.
  return wall + (((instant % 1000) + 1000) % 1000)
}

/** Offset of the zone from UTC at an instant, in ms (positive east of Greenwich). */
export function offsetAt(instant: number, zone: string): number {
  return wallOf(instant, zone) - instant
}

const DAY_MS = 24 * 3600 * 1000

/**
 * The instant a wall time happens. Twice in a fall-back overlap: the first one. Never in a
 * spring-forward gap: the first instant after the gap (the moment the clocks jump), so a run
 * planned inside the gap still happens once, as early as it can.
 */
export function instantOf(wall: number, zone: string): number {
  const before = offsetAt(wall - DAY_MS, zone)
  const after = offsetAt(wall + DAY_MS, zone)
  const candidates = [wall - before, wall - after].filter((i) => wallOf(i, zone) === wall).sort((a, b) => a - b)
  if (candidates[0] !== undefined) return candidates[0]
  // In a gap: find the transition by bisection between the two readings of the wall time.
  let lo = Math.min(wall - before, wall - after)
  let hi = Math.max(wall - before, wall - after)
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2)
    if (offsetAt(mid, zone) === after) hi = mid
    else lo = mid
  }
  return hi
}
