/**
 * Timestamps as Butler's templates offer them: UTC plus five local renderings. QRS writes 1753-01-01
 * for "never" (QLIK-PROTOCOLS §1.10), which becomes '-'.
 */

export type LocalTimes = { utc: string; local1: string; local2: string; local3: string; local4: string; local5: string }

const pad = (n: number, w = 2) => String(n).padStart(w, '0')

export function isNever(iso: string | undefined): boolean {
  return !iso || iso.startsWith('1753-')
}

export function renderTimes(iso: string | undefined): LocalTimes {
  const d = iso ? new Date(iso) : undefined
  if (!d || Number.isNaN(d.getTime()) || isNever(iso)) {
    return { utc: '-', local1: '-', local2: '-', local3: '-', local4: '-', local5: '-' }
  }
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  return {
    utc: d.toISOString().replace('T', ' ').replace('Z', ''),
    local1: `${date} ${time}.${pad(d.getMilliseconds(), 3)}`,
    local2: `${date} ${time}`,
    local3: `${date} ${time.slice(0, 5)}`,
    local4: d.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'medium' }),
    local5: d.toLocaleString('en-US', { dateStyle: 'full', timeStyle: 'long' }),
  }
}

export function durationParts(ms: number | undefined): { hours: number; minutes: number; seconds: number } {
  const total = Math.max(0, Math.round((ms ?? 0) / 1000))
  return { hours: Math.floor(total / 3600), minutes: Math.floor((total % 3600) / 60), seconds: total % 60 }
}
