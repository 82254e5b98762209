import { setTimeout as sleep } from 'node:timers/promises'
import type { SenseService } from '../../services/sense.js'
import type { App, ExecutionResultCondensed, Task } from '../../sense/qrs/index.js'
import type { TaskDatagram } from './datagram.js'

/**
 * What QRS adds to a datagram (BUTLER-REFERENCE §3.3): the task, its last execution result, the app with
 * its owner's email, and the script log. Each step can fail on its own; the alert then goes out with
 * what was found and the reasons in `problems` (marked incomplete), never not at all.
 */
export interface Enrichment {
  task?: Task
  execution?: ExecutionResultCondensed
  app?: App
  ownerEmail?: string | null
  scriptLog?: string
  problems: string[]
}

export interface EnrichOptions {
  enabled: boolean
  /** Fetch the script log (reload failures and aborts; the rest rarely need it). */
  wantScriptLog: (task: Task | undefined) => boolean
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err))

export async function enrich(sense: SenseService, d: TaskDatagram, opts: EnrichOptions): Promise<Enrichment> {
  const out: Enrichment = { problems: [] }
  if (!opts.enabled) return out
  if (!sense.configured) {
    out.problems.push('Qlik Sense is not configured (sense.host): no task, app or script log details')
    return out
  }
  const qrs = sense.qrs
  const step = async <T>(what: string, run: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await run()
    } catch (err) {
      out.problems.push(`${what}: ${message(err)}`)
      return undefined
    }
  }
  out.task = await step('task', () => qrs.getTask(d.taskId))
  out.execution = out.task?.operational?.lastExecutionResult
  const appId = d.appId || out.task?.app?.id
  if (appId) {
    out.app = await step('app', () => qrs.getApp(appId))
    const ownerId = out.app?.owner?.id
    if (ownerId) out.ownerEmail = await step('app owner email', () => qrs.getUserEmail(ownerId))
  }
  if (out.task && out.execution && opts.wantScriptLog(out.task)) {
    const run = out.execution
    out.scriptLog = await step('script log', () => qrs.getScriptLog(d.taskId, run))
  }
  return out
}

/** Distribute tasks: the datagram fires on completion whatever the result, so QRS says how it went (§3.4). */
export type DistributeOutcome = 'succeeded' | 'failed' | 'unknown'

const DISTRIBUTE_DONE: Record<number, DistributeOutcome> = { 7: 'succeeded', 6: 'failed', 8: 'failed', 11: 'failed' }

export async function waitForDistribute(
  sense: SenseService,
  taskId: string,
  opts: { pollMs: number; maxWaitMs: number; signal?: AbortSignal },
): Promise<{ outcome: DistributeOutcome; task?: Task }> {
  const until = Date.now() + opts.maxWaitMs
  for (;;) {
    const task = await sense.qrs.getTask(taskId)
    const status = task.operational?.lastExecutionResult?.status
    const outcome = status === undefined ? undefined : DISTRIBUTE_DONE[status]
    if (outcome) return { outcome, task }
    if (Date.now() + opts.pollMs > until || opts.signal?.aborted) return { outcome: 'unknown', task }
    await sleep(opts.pollMs, undefined, opts.signal ? { signal: opts.signal } : {}).catch(() => undefined)
  }
}
