/** Small numeric helpers for the benchmark: no dependencies, no sampling tricks. */

/** The q-quantile (0..1) by nearest rank on a copy; NaN for an empty list. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = Float64Array.from(values).sort()
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[rank] as number
}

/** The middle value; for an even count the mean of the middle two, so neither of them is favoured. */
export function median(values: readonly number[]): number {
  if (values.length % 2 === 1 || values.length === 0) return quantile(values, 0.5)
  const sorted = Float64Array.from(values).sort()
  const mid = sorted.length / 2
  return ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** Median of the repetitions that produced a number (NaN ones are skipped). */
export function medianOf(values: readonly number[]): number {
  return median(values.filter((v) => Number.isFinite(v)))
}

export function fmtNumber(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return 'n/a'
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

/** Milliseconds with a precision that suits the magnitude. */
export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a'
  if (ms < 1) return `${ms.toFixed(2)} ms`
  if (ms < 100) return `${ms.toFixed(1)} ms`
  return `${Math.round(ms).toLocaleString('en-US')} ms`
}

export function fmtRatio(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(2)}×` : 'n/a'
}

export function fmtPct(r: number): string {
  return Number.isFinite(r) ? `${Math.round(r * 100)} %` : 'n/a'
}

/** A Markdown table. */
export const mdTable = (head: string[], rows: string[][]): string =>
  [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join(
    '\n',
  )

export const verdict = (ok: boolean): string => (ok ? 'PASS' : '**FAIL**')
