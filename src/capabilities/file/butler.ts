import type { ErrorCode } from '../../core/errors.js'

/**
 * Butler's answers for its file routes (BUTLER-REFERENCE §1.3, §6): a missing source or file is 400,
 * nothing approved is 403 (as "no approved directory"), and a move onto an existing file, which
 * fs-extra refused, is 500.
 */
export const BUTLER_FILE_ERRORS: Partial<Record<ErrorCode, number>> = {
  NOT_FOUND: 400,
  NOT_CONFIGURED: 403,
  LIMIT_EXCEEDED: 400,
  CONFLICT: 500,
}

export function bodyObject(body: unknown): Record<string, unknown> {
  return body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {}
}

/** Butler's flag rule: `true` or the string `"true"` (what load scripts send) is true; anything else false. */
export const butlerFlag = (v: unknown): boolean => v === true || v === 'true'

/** The body fields that are present (undefined ones dropped, so a missing field fails validation). */
export function present(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined))
}
