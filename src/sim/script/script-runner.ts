import { setTimeout as sleep } from 'node:timers/promises'
import { createHash } from 'node:crypto'
import { UNCONFIRMED, type UnconfirmedDetails } from '../unconfirmed.js'
import { scriptLogTimestamp } from '../time-format.js'
import { parseScript, type ScriptStatement } from './parse-script.js'

/**
 * The script runner (QLIK-PROTOCOLS §4.6). Both the scheduler's task runs and the Engine face's
 * DoReload/DoReloadEx go through it, so a failing script fails the same way on both paths.
 */

/** §2.4 DoReload qMode: 0 default, 1 ABEND (stop on error), 2 ignore errors. */
export type ReloadMode = 0 | 1 | 2

export interface ScriptRunRequest {
  script: string
  mode?: ReloadMode
  partial?: boolean
  /** Who the log says ran it (`Reload Executed By`). */
  executedBy?: { directory: string; userId: string }
  startedAt?: Date
  durationMs?: number
  /** 1-based script line that fails. */
  failLine?: number
  errorText?: string
  /** Fail even without a fail line or a magic statement (behaviour outcome 'fail'). */
  forceFail?: boolean
  /** §4.6 trigger 2: sources that "do not exist". */
  missingFiles?: string[]
  processId?: number
  /** Aborted run: only the statements before this point of the run are logged (0..1). */
  abortedAtFraction?: number
  texts?: UnconfirmedDetails['scriptLog']
}

/** One script error, in the engine's ErrorData vocabulary (§2.4 GetProgress qErrorData). */
export interface ScriptError {
  line: number
  statement: string
  message: string
}

export interface ScriptRunResult {
  success: boolean
  /** The log text, CRLF line endings, no trailing CRLF after the last line. */
  log: string
  /** Byte length of `log` in UTF-8 (`scriptLogSize`, §4.6). */
  logBytes: number
  startedAt: Date
  finishedAt: Date
  errors: ScriptError[]
  /** The tables loaded, with the source the log names (`Sales << sales_transactions`). */
  tables: Array<{ name: string; source: string; rows: number }>
}

/**
 * Partial reload semantics (Qlik script reference): a partial reload runs only the LOAD/SELECT
 * statements with an ADD, REPLACE or MERGE prefix, plus the statements that load no data (SET, LET,
 * STORE, DROP ...); a full reload runs everything except the `... ONLY` ones.
 */
export function runsIn(statement: ScriptStatement, partial: boolean): boolean {
  if (!partial) return !statement.partialOnly
  return statement.partialPrefix !== null || !statement.isLoad
}

function rowCount(seed: string): number {
  const n = parseInt(createHash('sha1').update(seed).digest('hex').slice(0, 6), 16)
  return 500 + (n % 250_000)
}

function sourceName(statement: ScriptStatement): string {
  if (statement.isInline) return 'INL'
  if (statement.isResident)
    return (
      /\bRESIDENT\s+\[?([\w ]+?)\]?\s*(?:WHERE\b|GROUP\b|ORDER\b|;|$)/i.exec(statement.text)?.[1]?.trim() ?? 'RESIDENT'
    )
  if (statement.fromPath) return statement.fromPath.replace(/^.*\//, '').replace(/\.[^.]+$/, '')
  return statement.label ?? 'Table'
}

/** The statement that fails, and why, or null when the run succeeds. */
function findFailure(
  statements: ScriptStatement[],
  req: ScriptRunRequest,
  texts: UnconfirmedDetails['scriptLog'],
): Map<ScriptStatement, string> {
  const failures = new Map<ScriptStatement, string>()
  const missing = new Set((req.missingFiles ?? []).map((p) => p.toLowerCase()))
  for (const st of statements) {
    if (st.isForcedFailure) failures.set(st, texts.forcedError)
    else if (st.fromPath && missing.has(st.fromPath.toLowerCase()))
      failures.set(st, texts.missingFileError(st.fromPath))
  }
  if (req.failLine !== undefined || req.forceFail) {
    const wanted = req.failLine
    const spans = (st: ScriptStatement, line: number): boolean =>
      (st.lines[0]?.number ?? Infinity) <= line && line <= (st.lines.at(-1)?.number ?? -Infinity)
    const target =
      (wanted !== undefined ? statements.find((st) => spans(st, wanted)) : undefined) ??
      statements.find((st) => st.fromPath) ??
      statements.at(-1)
    if (target) {
      const text = req.errorText ?? (target.fromPath ? texts.missingFileError(target.fromPath) : texts.genericError)
      failures.set(target, text)
    }
  }
  return failures
}

/** Renders the whole run at once (pure): timestamps are spread evenly over `durationMs`. */
export function renderScriptRun(req: ScriptRunRequest): ScriptRunResult {
  const texts = req.texts ?? UNCONFIRMED.scriptLog
  const mode = req.mode ?? 0
  const startedAt = req.startedAt ?? new Date()
  const durationMs = Math.max(0, req.durationMs ?? 0)
  const statements = parseScript(req.script).filter((st) => runsIn(st, req.partial ?? false))
  const failures = findFailure(statements, req, texts)
  const by = req.executedBy ?? { directory: 'INTERNAL', userId: 'sa_scheduler' }

  const lines: Array<{ offset: number; text: string }> = []
  const at = (fraction: number, text: string): void => {
    lines.push({ offset: Math.round(durationMs * fraction), text })
  }
  const pad = (label: string): string => label.padEnd(30)
  at(0, 'Execution started.')
  at(0, `Qlik Sense Server Version ${texts.serverVersion}`)
  at(0, `${pad('CPU Target')}${texts.cpuTarget}`)
  at(0, `${pad('Operating System')}${texts.operatingSystem}`)
  at(0, `${pad('Wow64 mode')}${texts.wow64}`)
  at(0, `${pad('MDAC Version')}${texts.mdacVersion}`)
  at(0, `${pad('MDAC Full Install Version')}${texts.mdacVersion}`)
  at(0, `${pad('PreferredMemoryLocation')}${texts.preferredMemoryLocation}`)
  at(0, `${pad('Reload Executed By')}UserDirectory=${by.directory}; UserId=${by.userId}`)
  at(0, `${pad('Process Executing')}${texts.processExecuting}`)
  at(0, `${pad('Process ID')}${req.processId ?? 4940}`)
  if (req.partial) at(0, texts.partialReload)

  const errors: ScriptError[] = []
  const tables: ScriptRunResult['tables'] = []
  let stopped = false
  let aborted = req.abortedAtFraction !== undefined && req.abortedAtFraction <= 0
  statements.forEach((st, index) => {
    if (stopped || aborted) return
    const fraction = statements.length > 1 ? index / statements.length : 0
    if (req.abortedAtFraction !== undefined && fraction > req.abortedAtFraction) {
      aborted = true
      return
    }
    for (const line of st.lines) at(fraction, `${String(line.number).padStart(4, '0')}  ${line.text.trim()}`)
    const failure = failures.get(st)
    if (failure !== undefined) {
      errors.push({ line: st.lines.at(-1)?.number ?? 0, statement: st.text, message: failure })
      at(1, '')
      at(1, `Error: ${failure}`)
      if (mode !== 2) stopped = true
      return
    }
    if (st.isLoad && !st.connectTo) {
      const name = st.label ?? sourceName(st)
      const inlineAt = st.lines.findIndex((l) => /\bINLINE\b/i.test(l.text))
      // INLINE: the data lines minus the header row and the closing bracket.
      const rows =
        st.isInline && inlineAt >= 0 ? Math.max(0, st.lines.length - inlineAt - 3) : rowCount(`${name}:${st.text}`)
      tables.push({ name, source: sourceName(st), rows })
      at(fraction, `${name} << ${sourceName(st)}`)
      at(fraction, `Lines fetched: ${rows.toLocaleString('en-US')}`)
    }
  })

  // An aborted run never reaches the success tail, wherever the abort landed.
  if (req.abortedAtFraction !== undefined && !stopped) aborted = true
  const success = !stopped && !aborted
  if (aborted) {
    at(1, '')
    at(1, texts.executionAborted)
  } else if (success) {
    at(1, '')
    for (const text of texts.successTail) at(1, text)
  } else {
    at(1, texts.executionFailed)
  }
  at(1, 'Execution finished.')

  const log = lines.map((l) => `${scriptLogTimestamp(new Date(startedAt.getTime() + l.offset))} ${l.text}`).join('\r\n')
  return {
    success,
    log,
    logBytes: Buffer.byteLength(log, 'utf8'),
    startedAt,
    finishedAt: new Date(startedAt.getTime() + durationMs),
    errors,
    tables,
  }
}

/**
 * Runs a script "for real": waits `durationMs` (abortable), then renders the log with the real
 * start time. Rejects with the signal's reason when aborted.
 */
export async function runScript(req: ScriptRunRequest & { signal?: AbortSignal }): Promise<ScriptRunResult> {
  const startedAt = req.startedAt ?? new Date()
  const durationMs = Math.max(0, req.durationMs ?? 0)
  if (durationMs > 0) await sleep(durationMs, undefined, { signal: req.signal })
  else req.signal?.throwIfAborted()
  return renderScriptRun({ ...req, startedAt, durationMs })
}
