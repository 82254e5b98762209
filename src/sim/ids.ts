import { createHash, randomUUID } from 'node:crypto'

/** QLIK-PROTOCOLS §1.5: the all-zero GUID means "none" (no script log, task did not start). */
export const EMPTY_GUID = '00000000-0000-0000-0000-000000000000'

/** QLIK-PROTOCOLS §1.5: "never" is the SQL Server minimum date. */
export const NEVER = '1753-01-01T00:00:00.000Z'

const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function isGuid(text: string): boolean {
  return GUID_RE.test(text)
}

export function newGuid(): string {
  return randomUUID()
}

/**
 * A GUID derived from a seed, so fixture entities without an explicit id (custom-property values,
 * variables, attributes) keep the same id across restarts and resets.
 */
export function stableGuid(seed: string): string {
  const hex = createHash('sha1').update(seed).digest('hex')
  const variant = ((parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)
  const v5 = `5${hex.slice(13, 16)}`
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${v5}-${variant}${hex.slice(18, 20)}-${hex.slice(20, 32)}`
}

/** Map keys: QRS compares GUIDs case-insensitively (§1.5.1). */
export function idKey(id: string): string {
  return id.toLowerCase()
}

/** ISO-8601 UTC with milliseconds, the QRS timestamp format (§1.5). */
export function isoNow(clock: () => number = Date.now): string {
  return new Date(clock()).toISOString()
}
