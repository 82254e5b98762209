import { setTimeout as sleep } from 'node:timers/promises'
import type {
  EngineApp,
  EngineBackend,
  EngineCallRecord,
  EngineFaults,
  EngineReloadOptions,
  EngineReloadProgress,
  EngineReloadResult,
} from '../engine/backend.js'
import type { SimContext } from '../context.js'
import { idKey } from '../ids.js'
import { deriveLineage } from '../model/expand-objects.js'
import { parseQlikUser } from '../qrs/auth.js'
import { renderScriptRun, type ReloadMode, type ScriptRunResult } from '../script/script-runner.js'
import { engineAppView } from './app-view.js'

export interface EngineAdapterOptions {
  /** How long an engine-side reload takes; default: the app's reload-task duration, else 1500 ms. */
  reloadMs?: number
}

/**
 * GetProgress's persistent lines as a real engine prints them while the script runs: the table and
 * its source (`Sales << sales_transactions`), the rows fetched, and the error when a statement fails.
 */
function progressSteps(run: ScriptRunResult, failedText: string): EngineReloadProgress[] {
  const steps: EngineReloadProgress[] = run.tables.flatMap((t) => {
    const fetched = `Lines fetched: ${t.rows.toLocaleString('en-US')}`
    return [{ persistent: `${t.name} << ${t.source}`, transient: fetched }, { persistent: fetched }]
  })
  for (const e of run.errors) {
    steps.push({
      persistent: `Error: ${e.message}`,
      error: { qErrorString: e.statement, qLine: String(e.line), qErrorDataCode: 1, qMessage: e.message },
    })
  }
  if (!run.success && run.errors.length > 0) steps.push({ persistent: failedText })
  return steps
}

/** Waits; false when the signal fired first (CancelReload). */
async function pausing(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return false
  try {
    await sleep(ms, undefined, signal ? { signal } : {})
    return true
  } catch {
    return false
  }
}

function stamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, '')
}

/**
 * The simulator model behind the colleague-owned Engine face (`src/sim/engine/backend.ts`).
 * Reloads run through the same script runner as scheduled tasks (§4.4) and send no UDP (§2.5.1);
 * lastReloadTime changes only on DoSave (§4.4).
 */
export function createEngineBackend(ctx: SimContext, opts: EngineAdapterOptions = {}): EngineBackend {
  const pendingReloadTime = new Map<string, string>()

  const reloadDuration = (appId: string): number => {
    if (ctx.faults.engineReloadMs >= 0) return ctx.faults.engineReloadMs
    if (opts.reloadMs !== undefined) return opts.reloadMs
    const task = ctx.model.tasks
      .values()
      .find((t) => t.taskType === 0 && t.appId !== null && idKey(t.appId) === idKey(appId))
    return task?.behaviour.durationMs ?? 1500
  }

  return {
    listApps: (): EngineApp[] => ctx.model.apps.values().map((a) => engineAppView(ctx.model, a)),

    getApp: (id: string): EngineApp | undefined => {
      const app = ctx.model.apps.get(id)
      return app ? engineAppView(ctx.model, app) : undefined
    },

    async reload(
      appId: string,
      options: EngineReloadOptions,
      onProgress?: (p: EngineReloadProgress) => void,
    ): Promise<EngineReloadResult> {
      const app = ctx.model.apps.get(appId)
      if (!app) throw new Error(`App ${appId} is not in the model`)
      const user = parseQlikUser(options.user)
      const startedAt = new Date()
      const durationMs = reloadDuration(appId)
      const runRequest = {
        script: app.script,
        mode: ([0, 1, 2].includes(options.mode) ? options.mode : 0) as ReloadMode,
        partial: options.partial,
        executedBy: user ? { directory: user.directory, userId: user.userId } : undefined,
        startedAt,
        durationMs,
        missingFiles: ctx.model.site.missingFiles,
        processId: ctx.model.site.processId,
        texts: ctx.texts.scriptLog,
      }
      const run = renderScriptRun(runRequest)
      const steps = progressSteps(run, ctx.texts.scriptLog.executionFailed)
      const pause = durationMs / Math.max(1, steps.length)
      let aborted = false
      for (const step of steps) {
        aborted = !(await pausing(pause, options.signal))
        if (aborted) break
        onProgress?.(step)
      }
      if (steps.length === 0 && !aborted) aborted = !(await pausing(durationMs, options.signal))
      if (aborted) {
        // CancelReload: the run stops where it was, and the progress says so, as the log does.
        const elapsed = Date.now() - startedAt.getTime()
        const cut = renderScriptRun({ ...runRequest, abortedAtFraction: durationMs > 0 ? elapsed / durationMs : 0 })
        onProgress?.({ persistent: ctx.texts.scriptLog.executionAborted })
        return {
          success: false,
          scriptLog: cut.log,
          scriptLogFile: ctx.texts.scriptLog.scriptLogFilePath(app.id, stamp(startedAt)),
          endedWithMemoryConstraint: false,
        }
      }
      if (run.success) pendingReloadTime.set(idKey(appId), run.finishedAt.toISOString())
      return {
        success: run.success,
        scriptLog: run.log,
        scriptLogFile: ctx.texts.scriptLog.scriptLogFilePath(app.id, stamp(startedAt)),
        endedWithMemoryConstraint: false,
      }
    },

    save(appId: string): void {
      const app = ctx.model.apps.get(appId)
      const reloadTime = pendingReloadTime.get(idKey(appId))
      if (!app) return
      const now = new Date().toISOString()
      if (reloadTime) {
        app.lastReloadTime = reloadTime
        pendingReloadTime.delete(idKey(appId))
      }
      app.modifiedDate = now
    },

    setScript(appId: string, script: string): void {
      const app = ctx.model.apps.get(appId)
      if (!app) return
      app.script = script
      app.lineage = deriveLineage(script)
    },

    record(call: EngineCallRecord): void {
      ctx.recorder.record(call)
    },

    faults: (): EngineFaults => ({
      deltaResponses: ctx.faults.engineDeltaResponses,
      latencyMs: ctx.faults.engineLatencyMs,
    }),
  }
}
