import { type ExecutionResult, type ExecutionResultCondensed, TaskExecutionStatus } from '../../sense/qrs/index.js'
import type { ExecutionRecord } from './schema.js'

const STATUS_NAMES = Object.fromEntries(Object.entries(TaskExecutionStatus).map(([name, code]) => [code, name]))

/** QLIK-PROTOCOLS §1.9: the statuses a run ends in. Retry (10) is not one: another attempt follows. */
const FINAL = new Set<number>([
  TaskExecutionStatus.Aborted,
  TaskExecutionStatus.FinishedSuccess,
  TaskExecutionStatus.FinishedFail,
  TaskExecutionStatus.Skipped,
  TaskExecutionStatus.Error,
  TaskExecutionStatus.Reset,
])

export const TASK_TYPES = ['Reload', 'ExternalProgram', 'UserSync', 'Distribute', 'Preload'] as const

export function statusName(code: number): string {
  return STATUS_NAMES[code] ?? `Status${code}`
}

export function isFinal(code: number): boolean {
  return FINAL.has(code)
}

/** "Never" in QRS is the SQL Server minimum date (QLIK-PROTOCOLS §1.5). */
export function realDate(value: string | undefined): string | null {
  return value && !value.startsWith('1753') ? value : null
}

/** One run as sensebus reports it, from QRS's ExecutionResult of its latest attempt. */
export function executionRecord(
  task: { taskId: string; taskName: string; executionId: string },
  result: ExecutionResultCondensed | undefined,
): ExecutionRecord {
  const code = result?.status ?? TaskExecutionStatus.Triggered
  const final = isFinal(code)
  return {
    taskId: task.taskId,
    taskName: task.taskName,
    executionId: task.executionId,
    executionResultId: result?.id ?? null,
    status: statusName(code),
    statusCode: code,
    succeeded: final ? code === TaskExecutionStatus.FinishedSuccess : null,
    startedAt: realDate(result?.startTime),
    endedAt: final ? realDate(result?.stopTime) : null,
    durationMs: final && result ? Math.max(0, Math.round(result.duration)) : null,
    node: result?.executingNodeName || null,
  }
}

/** The latest attempt of a run: QRS keeps one ExecutionResult per attempt (§1.7). */
export function latestAttempt(results: ExecutionResult[]): ExecutionResult | undefined {
  let latest: ExecutionResult | undefined
  for (const r of results) {
    const at = r.createdDate ?? r.startTime
    if (!latest || at >= (latest.createdDate ?? latest.startTime)) latest = r
  }
  return latest
}
