import { setTimeout as sleep } from 'node:timers/promises'
import { newGuid } from '../ids.js'
import type { SimModel } from '../model/store.js'
import type { SimExecutionResult, SimExecutionSession, SimTask, TaskBehaviour } from '../model/types.js'
import { renderScriptRun, runScript, type ScriptRunRequest } from '../script/script-runner.js'
import type { UnconfirmedDetails } from '../unconfirmed.js'
import { addDetail, attachScriptLog, setStatus, splitUser } from './execution-records.js'
import type { ExecutorTiming } from './executor.js'

export type AttemptOutcome = { kind: 'success' } | { kind: 'fail' }

export interface AttemptContext {
  model: SimModel
  texts: UnconfirmedDetails
  timing: ExecutorTiming
  task: SimTask
  session: SimExecutionSession
  result: SimExecutionResult
  behaviour: TaskBehaviour
  /** 0-based attempt number within the session (retries). */
  attempt: number
  signal: AbortSignal
  /** Behaviour outcome 'abort': the run aborts itself as if a user pressed Abort. */
  abortSelf: (user: string) => void
}

const now = (): string => new Date().toISOString()

/**
 * One attempt from Triggered to the end of the work (QLIK-PROTOCOLS §4.5), without the final state:
 * the executor decides between retry, FinishedSuccess and FinishedFail.
 */
export async function runAttempt(ctx: AttemptContext): Promise<AttemptOutcome> {
  const { timing, texts, task, result, behaviour, signal } = ctx
  await sleep(timing.triggeredToSendingMs, undefined, { signal })
  addDetail(result, texts.details.sendingToSlave, now())
  await sleep(timing.sendingToStartedMs, undefined, { signal })
  setStatus(result, 2, texts.details.started, now())

  // Only reload tasks run a script, so only they get a script-log reference.
  if (task.taskType === 0) {
    await sleep(timing.startedToScriptLogMs, undefined, { signal })
    result.fileReferenceId = newGuid()
    result.scriptLogAvailable = true
    addDetail(result, texts.details.scriptLogAdded, now())
  }

  // §4.5: a distribute task may sit in DistributionQueue (13) and DistributionRunning (14) first.
  if (task.taskType === 3 && (behaviour.distributionQueueMs ?? 0) > 0) {
    setStatus(result, 13, texts.details.distributionQueue, now())
    await sleep(behaviour.distributionQueueMs, undefined, { signal })
    setStatus(result, 14, texts.details.distributionRunning, now())
  }

  const shouldFail =
    behaviour.outcome === 'fail' &&
    (behaviour.retriesBeforeSuccess === undefined || ctx.attempt < behaviour.retriesBeforeSuccess)
  if (behaviour.outcome === 'abort') {
    const scriptRun = task.taskType === 0 ? reload(ctx, false, behaviour.durationMs * 2) : null
    await sleep(behaviour.durationMs, undefined, { signal })
    ctx.abortSelf(behaviour.abortUser ?? ctx.session.user)
    await scriptRun?.catch(() => undefined)
    signal.throwIfAborted()
  }
  if (task.taskType === 0) return reload(ctx, shouldFail, behaviour.durationMs)

  await sleep(behaviour.durationMs, undefined, { signal })
  if (task.taskType === 4 && shouldFail) addDetail(result, texts.details.preloadFailed, now(), 0)
  return shouldFail ? { kind: 'fail' } : { kind: 'success' }
}

/** Reload: run the app's script through the shared script runner (§4.6) and store the log. */
async function reload(ctx: AttemptContext, forceFail: boolean, durationMs: number): Promise<AttemptOutcome> {
  const { model, texts, task, session, result, behaviour, signal } = ctx
  const app = task.appId ? model.apps.get(task.appId) : undefined
  const request: ScriptRunRequest = {
    script: app?.script ?? '',
    mode: 0,
    partial: task.isPartialReload,
    executedBy: splitUser(session.user),
    durationMs,
    failLine: forceFail ? behaviour.failLine : undefined,
    errorText: forceFail ? behaviour.errorText : undefined,
    forceFail: forceFail || !app,
    missingFiles: model.site.missingFiles,
    processId: model.site.processId,
    texts: texts.scriptLog,
  }
  const startedAt = new Date()
  try {
    const run = await runScript({ ...request, startedAt, signal })
    attachScriptLog(result, run.log)
    return run.success ? { kind: 'success' } : { kind: 'fail' }
  } catch (err) {
    if (!signal.aborted) throw err
    // Aborted mid-script: keep the partial log a real engine would have written so far.
    const elapsed = Date.now() - startedAt.getTime()
    const fraction = durationMs > 0 ? elapsed / durationMs : 0
    attachScriptLog(
      result,
      renderScriptRun({ ...request, startedAt, durationMs: elapsed, abortedAtFraction: fraction }).log,
    )
    throw err
  }
}
