/**
 * Human-readable log lines for a terminal: pino writes JSON, this turns each line into
 * `12:00:01.234 INFO  [http] message key=value`. Only used when a person is watching (stdout is a
 * TTY, or `log.format: pretty`); machines get the JSON untouched.
 */

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' }
const COLOURS: Record<number, string> = { 10: '90', 20: '36', 30: '32', 40: '33', 50: '31', 60: '35' }
/** Fields the line shows in its own place, or that say nothing to a reader. */
const HIDDEN = new Set(['level', 'time', 'msg', 'name', 'pid', 'hostname', 'area', 'err', 'v'])

export interface PrettyOptions {
  colour?: boolean
}

function timeOf(value: unknown): string {
  if (typeof value !== 'string' && typeof value !== 'number') return ''
  const d = new Date(value)
  if (Number.isNaN(d.getTime())) return String(value)
  const pad = (n: number, w = 2) => String(n).padStart(w, '0')
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
}

function valueOf(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v
  return JSON.stringify(v) ?? String(v)
}

/** One JSON log line in, one readable line out (unchanged when it is not JSON). */
export function prettyLine(json: string, opts: PrettyOptions = {}): string {
  let rec: Record<string, unknown>
  try {
    rec = JSON.parse(json) as Record<string, unknown>
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`
  }
  const level = typeof rec.level === 'number' ? rec.level : 30
  let label = (LEVELS[level] ?? String(rec.level)).padEnd(5)
  if (opts.colour) label = `\u001b[${COLOURS[level] ?? '0'}m${label}\u001b[0m`
  const area = typeof rec.area === 'string' ? ` [${rec.area}]` : ''
  const msg = typeof rec.msg === 'string' ? ` ${rec.msg}` : ''
  const fields = Object.entries(rec)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => ` ${k}=${valueOf(v)}`)
    .join('')
  let out = `${timeOf(rec.time)} ${label}${area}${msg}${fields}\n`
  const err = rec.err as { type?: string; message?: string; stack?: string } | undefined
  if (err && typeof err === 'object') {
    // The stack only where something is wrong; a warning's cause reads better as one line.
    const detail = level >= 50 && err.stack ? err.stack : `${err.type ?? 'Error'}: ${err.message ?? ''}`
    out += `${detail.replace(/^/gm, '    ')}\n`
  }
  return out
}

/** A pino destination that writes readable lines to `out` (stdout by default). */
export function prettyStream(
  out: { write(chunk: string): unknown } = process.stdout,
  opts: PrettyOptions = {},
): { write(chunk: string): void } {
  return {
    write(chunk) {
      // pino hands over one complete line per write.
      out.write(prettyLine(chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk, opts))
    },
  }
}
