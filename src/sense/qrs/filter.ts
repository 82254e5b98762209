import { CapabilityError } from '../../core/errors.js'

/**
 * Builders for QRS `filter=` expressions (QLIK-PROTOCOLS §1.5.1). Values are never pasted in raw:
 * strings are single-quoted with `'` doubled, GUIDs are validated and left unquoted as Butler sends them.
 */

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function isGuid(value: string): boolean {
  return GUID.test(value)
}

/** Ids go into paths and unquoted filter values, so anything else is refused before a request is made. */
export function assertGuid(value: string, what = 'id'): string {
  if (!isGuid(value)) {
    throw new CapabilityError('VALIDATION_FAILED', `${what} must be a GUID`, { details: { [what]: value } })
  }
  return value
}

/** `O'Brien` → `'O''Brien'` (QLIK-PROTOCOLS §1.5.1: `''` is an escaped single quote). */
export function quoteString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`
}

/** `property eq 'value'`, the string form. */
export function eqString(property: string, value: string): string {
  return `${property} eq ${quoteString(value)}`
}

/** `property eq <guid>`, unquoted (QLIK-PROTOCOLS §1.5.1). */
export function eqGuid(property: string, value: string): string {
  return `${property} eq ${assertGuid(value, property)}`
}

/** Joins conditions with `and`, parenthesising each so `or` inside one cannot leak into the others. */
export function and(conditions: string[]): string {
  if (conditions.length === 1) return conditions[0] ?? ''
  return conditions.map((c) => `(${c})`).join(' and ')
}

export interface TaskQuery {
  id?: string
  name?: string
  tag?: string
  customProperty?: { name: string; value: string }
}

/**
 * The task filters Butler sends (QLIK-PROTOCOLS §1.6 Q2-Q5): `id eq <guid>`, `tags.name eq '…'`,
 * `(customProperties.definition.name eq '…') and (customProperties.value eq '…')`. Several criteria
 * combine with `and`; none gives `undefined` (no filter: every task).
 */
export function taskFilter(query: TaskQuery): string | undefined {
  const conditions: string[] = []
  if (query.id !== undefined) conditions.push(eqGuid('id', query.id))
  if (query.name !== undefined) conditions.push(eqString('name', query.name))
  if (query.tag !== undefined) conditions.push(eqString('tags.name', query.tag))
  if (query.customProperty !== undefined) {
    conditions.push(eqString('customProperties.definition.name', query.customProperty.name))
    conditions.push(eqString('customProperties.value', query.customProperty.value))
  }
  return conditions.length === 0 ? undefined : and(conditions)
}

export interface ExecutionResultQuery {
  executionId?: string
  taskId?: string
}

/** `ExecutionId eq <guid>` / `TaskId eq <guid>` (QLIK-PROTOCOLS §4.2; member names are case-insensitive). */
export function executionResultFilter(query: ExecutionResultQuery): string | undefined {
  const conditions: string[] = []
  if (query.executionId !== undefined) conditions.push(eqGuid('ExecutionId', query.executionId))
  if (query.taskId !== undefined) conditions.push(eqGuid('TaskId', query.taskId))
  return conditions.length === 0 ? undefined : and(conditions)
}

export interface AppQuery {
  id?: string
  name?: string
  tag?: string
  streamName?: string
  customProperty?: { name: string; value: string }
}

/** App filters (QLIK-PROTOCOLS §1.6 Q15 uses `id eq <guid>`; the rest follow the same grammar). */
export function appFilter(query: AppQuery): string | undefined {
  const conditions: string[] = []
  if (query.id !== undefined) conditions.push(eqGuid('id', query.id))
  if (query.name !== undefined) conditions.push(eqString('name', query.name))
  if (query.tag !== undefined) conditions.push(eqString('tags.name', query.tag))
  if (query.streamName !== undefined) conditions.push(eqString('stream.name', query.streamName))
  if (query.customProperty !== undefined) {
    conditions.push(eqString('customProperties.definition.name', query.customProperty.name))
    conditions.push(eqString('customProperties.value', query.customProperty.value))
  }
  return conditions.length === 0 ? undefined : and(conditions)
}
