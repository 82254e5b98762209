import { TASK_STATUS } from '../../model/types.js'
import type { FilterNode, FilterOp, FilterValue } from './parse.js'

/**
 * Evaluates a parsed filter against a serialised QRS entity (QLIK-PROTOCOLS §1.5.1):
 * - member names match case-insensitively (`ExecutionId` finds `executionID`);
 * - an array on the path makes the comparison true when ANY element matches (`tags.name eq 'x'`);
 * - `A and B` is evaluated per condition, so two collection conditions may match different elements
 *   (unconfirmed; the safer emulation).
 */

function member(obj: unknown, name: string): unknown {
  if (obj === null || typeof obj !== 'object') return undefined
  const record = obj as Record<string, unknown>
  if (name in record) return record[name]
  const lower = name.toLowerCase()
  const key = Object.keys(record).find((k) => k.toLowerCase() === lower)
  return key === undefined ? undefined : record[key]
}

/** Every value the path reaches, flattening arrays at each step. */
function valuesAt(entity: unknown, path: string[]): unknown[] {
  let current: unknown[] = [entity]
  for (const segment of path) {
    current = current.flatMap((item) => {
      const next = member(item, segment)
      return Array.isArray(next) ? next : [next]
    })
  }
  return current.flatMap((v) => (Array.isArray(v) ? v : [v]))
}

/** Enum names a bare word may stand for, e.g. `status eq FinishedFail`. */
const ENUMS: Record<string, number> = Object.fromEntries(
  Object.entries(TASK_STATUS).map(([k, v]) => [k.toLowerCase(), v]),
)

const DATE_RE = /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z?)?$/

function compareOrdered(actual: unknown, expected: FilterValue): number | null {
  if (expected.kind === 'null' || expected.kind === 'boolean') return null
  if (typeof actual === 'number') {
    const n =
      expected.kind === 'number'
        ? expected.value
        : expected.kind === 'bare' && ENUMS[expected.value.toLowerCase()] !== undefined
          ? (ENUMS[expected.value.toLowerCase()] as number)
          : Number(expected.value)
    return Number.isNaN(n) ? null : actual - n
  }
  if (typeof actual !== 'string') return null
  const text = String(expected.value)
  if (DATE_RE.test(actual) && DATE_RE.test(text)) {
    const utc = (s: string): number =>
      Date.parse(/[zZ]$|T.*[+-]\d\d:?\d\d$/.test(s) || s.length <= 10 ? s : `${s.replace(' ', 'T')}Z`)
    return utc(actual) - utc(text)
  }
  const a = actual.toLowerCase()
  const b = text.toLowerCase()
  return a < b ? -1 : a > b ? 1 : 0
}

function matchesOne(actual: unknown, op: FilterOp, expected: FilterValue): boolean {
  if (expected.kind === 'null') return (actual === null || actual === undefined) === (op === 'eq')
  if (actual === null || actual === undefined) return op === 'ne'
  if (expected.kind === 'boolean') {
    const same = actual === expected.value || String(actual).toLowerCase() === String(expected.value)
    return op === 'eq' ? same : op === 'ne' ? !same : false
  }
  if (op === 'sw' || op === 'ew' || op === 'so') {
    if (typeof actual !== 'string') return false
    const a = actual.toLowerCase()
    const b = String(expected.value).toLowerCase()
    return op === 'sw' ? a.startsWith(b) : op === 'ew' ? a.endsWith(b) : a.includes(b)
  }
  const diff = compareOrdered(actual, expected)
  if (diff === null) return false
  switch (op) {
    case 'eq':
      return diff === 0
    case 'ne':
      return diff !== 0
    case 'gt':
      return diff > 0
    case 'ge':
      return diff >= 0
    case 'lt':
      return diff < 0
    default:
      return diff <= 0
  }
}

export function matchesFilter(entity: unknown, node: FilterNode): boolean {
  if (node.kind !== 'compare') {
    const left = matchesFilter(entity, node.left)
    return node.kind === 'and' ? left && matchesFilter(entity, node.right) : left || matchesFilter(entity, node.right)
  }
  const values = valuesAt(entity, node.path)
  // `ne` on a collection: true when no element equals the value (the reading a caller expects of "tags.name ne 'x'").
  if (node.op === 'ne') return !values.some((v) => matchesOne(v, 'eq', node.value))
  return values.some((v) => matchesOne(v, node.op, node.value))
}
