import { setTimeout as sleep } from 'node:timers/promises'
import { CapabilityError } from '../../core/errors.js'
import type { Logger } from '../../log.js'
import { unexpectedResponse } from '../errors.js'
import { assertGuid } from './filter.js'
import { valueOf } from './read.js'
import type { QrsTransport } from './transport.js'
import { EMPTY_GUID, type ExecutionResultCondensed, type ReloadTask } from './types.js'

/**
 * The reload script log, fetched the way Butler does (QLIK-PROTOCOLS §0.9, §1.8): a download reference
 * from the old route (`scriptlog?fileReferenceId=`, deprecated May 2025), else from the new route
 * (`scriptlogfile?executionResultId=`), then the file itself. The log is often not ready right after a
 * task fails (butler#1499), hence the pause before each download and the retries.
 */

export interface ScriptLogOptions {
  /** Rounds of "old route, then new route". Butler: 3. */
  attempts: number
  /** Pause between rounds. Butler: 2 s. */
  retryDelayMs: number
  /** Pause between getting a reference and downloading it. Butler: 500 ms. */
  downloadPauseMs: number
}

export const SCRIPT_LOG_DEFAULTS: ScriptLogOptions = { attempts: 3, retryDelayMs: 2_000, downloadPauseMs: 500 }

/** What identifies one run's log: `operational.lastExecutionResult` of the reload task, or an ExecutionResult. */
export type ScriptLogRef = Pick<ExecutionResultCondensed, 'id' | 'fileReferenceID'>

/** Errors no retry can fix: stop at once instead of waiting out every attempt. */
const FINAL_CODES = new Set(['SENSE_AUTH', 'VALIDATION_FAILED'])

/** The QMC names the file after the task; Butler uses scriptlog.txt. QRS accepts any name (§1.8). */
const DOWNLOAD_FILE_NAME = 'scriptlog.txt'

export function scriptLogReader(
  qrs: QrsTransport,
  getReloadTask: (id: string) => Promise<ReloadTask>,
  options: ScriptLogOptions,
  log: Logger,
) {
  async function reference(path: string, query: Record<string, string>): Promise<string> {
    const { data, ctx, status } = await qrs.sendJson({ method: 'GET', path, query, expect: 'read' })
    return valueOf(data, () => unexpectedResponse(ctx, status, 'expected {"value": "<download reference>"}'))
  }

  async function download(ref: string): Promise<string> {
    await sleep(options.downloadPauseMs)
    const path = `download/reloadtask/${encodeURIComponent(ref)}/${DOWNLOAD_FILE_NAME}`
    return (await qrs.send({ method: 'GET', path, expect: 'read' })).body
  }

  /** The routes worth trying for this run, oldest first as Butler does. */
  function routes(taskId: string, run: ScriptLogRef): Array<() => Promise<string>> {
    const list: Array<() => Promise<string>> = []
    if (run.fileReferenceID && run.fileReferenceID !== EMPTY_GUID) {
      list.push(async () =>
        download(await reference(`reloadtask/${taskId}/scriptlog`, { fileReferenceId: run.fileReferenceID })),
      )
    }
    if (run.id && run.id !== EMPTY_GUID) {
      list.push(async () =>
        download(await reference(`ReloadTask/${taskId}/scriptlogfile`, { executionResultId: run.id })),
      )
    }
    return list
  }

  /**
   * The log text with its CRLF line ends. Without `run`, the reload task's last execution result is read
   * afresh on every attempt, as Butler does.
   */
  return async function getScriptLog(taskId: string, run?: ScriptLogRef): Promise<string> {
    assertGuid(taskId, 'taskId')
    let lastError: unknown
    for (let attempt = 1; attempt <= options.attempts; attempt++) {
      const current = run ?? (await getReloadTask(taskId)).operational.lastExecutionResult
      const tries = routes(taskId, current)
      if (tries.length === 0) {
        throw new CapabilityError('NOT_FOUND', `Task ${taskId} has no script log for its last execution`, {
          details: { taskId, executionResultId: current.id },
        })
      }
      for (const fetchLog of tries) {
        try {
          return await fetchLog()
        } catch (err) {
          if (err instanceof CapabilityError && FINAL_CODES.has(err.code)) throw err
          lastError = err
          log.debug({ err, taskId, attempt }, 'script log not available on this route')
        }
      }
      if (attempt < options.attempts) await sleep(options.retryDelayMs)
    }
    throw scriptLogUnavailable(taskId, options.attempts, lastError)
  }
}

function scriptLogUnavailable(taskId: string, attempts: number, lastError: unknown): CapabilityError {
  const last = lastError instanceof CapabilityError ? lastError : undefined
  return new CapabilityError(
    last?.code ?? 'SENSE_ERROR',
    `Script log of task ${taskId} not available after ${attempts} attempts`,
    {
      details: { taskId, attempts, last: last?.details ?? null },
      cause: lastError,
    },
  )
}
