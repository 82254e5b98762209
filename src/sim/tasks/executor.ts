import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from '../../log.js'
import type { SimFaults } from '../faults.js'
import type { SimModel } from '../model/store.js'
import type { SimExecutionResult, SimExecutionSession, SimTask, TaskBehaviour } from '../model/types.js'
import type { UnconfirmedDetails } from '../unconfirmed.js'
import type { DatagramSender } from '../udp/sender.js'
import { datagramFor, type TaskEnding } from './datagram-for.js'
import { addDetail, createResult, createSession, finishResult, setStatus } from './execution-records.js'
import { runAttempt, type AttemptOutcome } from './attempt.js'

/** §4.5 pauses between the first state changes (≈100 / 250 / 150 ms on a real site). */
export interface ExecutorTiming {
  triggeredToSendingMs: number
  sendingToStartedMs: number
  startedToScriptLogMs: number
}

export const DEFAULT_TIMING: ExecutorTiming = {
  triggeredToSendingMs: 100,
  sendingToStartedMs: 250,
  startedToScriptLogMs: 150,
}

export interface ExecutorDeps {
  model: SimModel
  texts: UnconfirmedDetails
  faults: SimFaults
  sender: DatagramSender
  log: Logger
  timing: ExecutorTiming
}

export type StartResult =
  | { status: 'started'; sessionId: string }
  | { status: 'already-running'; sessionId: string }
  | { status: 'disabled' }
  | { status: 'not-found' }

/** Why a run's AbortSignal fired: a user abort (§4.5 abort branch) or shutdown/reset (silent). */
type StopReason = { kind: 'abort'; user: string } | { kind: 'cancel' }

interface RunningExecution {
  session: SimExecutionSession
  controller: AbortController
  done: Promise<void>
}

/**
 * The task execution state machine (QLIK-PROTOCOLS §4.5). It writes every state change into the
 * model (what QRS serves) and sends the appender datagram only after the final state is in place
 * (§3.7), unless the `qrsLagsBehindUdp` fault asks for the opposite.
 */
export class TaskExecutor {
  private readonly running = new Map<string, RunningExecution>()

  constructor(private readonly deps: ExecutorDeps) {}

  /** Starts a task the way `POST /qrs/task/{id}/start` does; `user` is `DIR\userid`. */
  start(taskId: string, user: string): StartResult {
    const { model } = this.deps
    const task = model.tasks.get(taskId)
    if (!task) return { status: 'not-found' }
    if (!task.enabled) return { status: 'disabled' }
    const existing = model.runningSessionOf(task.id)
    // A running task is not started twice; callers get the running session.
    if (existing) return { status: 'already-running', sessionId: existing.id }
    const session = createSession(model, task, user, new Date().toISOString())
    const controller = new AbortController()
    const done = this.execute(task, session, controller)
      .catch((err: unknown) => this.deps.log.error({ err, taskId: task.id }, 'task execution crashed'))
      .finally(() => this.running.delete(session.id.toLowerCase()))
    this.running.set(session.id.toLowerCase(), { session, controller, done })
    return { status: 'started', sessionId: session.id }
  }

  /** Control API abort (§4.7): false when no such running session. */
  abort(sessionId: string, user: string): boolean {
    const run = this.running.get(sessionId.toLowerCase())
    if (!run) return false
    run.controller.abort({ kind: 'abort', user } satisfies StopReason)
    return true
  }

  setBehaviour(taskId: string, patch: Partial<TaskBehaviour>): TaskBehaviour | undefined {
    const task = this.deps.model.tasks.get(taskId)
    if (!task) return undefined
    task.behaviour = { ...task.behaviour, ...patch }
    return task.behaviour
  }

  runningSessions(): SimExecutionSession[] {
    return [...this.running.values()].map((r) => r.session)
  }

  /** Stops every run without datagrams (close, reset) and waits until they have unwound. */
  async cancelAll(): Promise<void> {
    const runs = [...this.running.values()]
    for (const run of runs) run.controller.abort({ kind: 'cancel' } satisfies StopReason)
    await Promise.all(runs.map((r) => r.done))
  }

  private async execute(task: SimTask, session: SimExecutionSession, controller: AbortController): Promise<void> {
    const { model, texts } = this.deps
    const signal = controller.signal
    const node = model.executingNode()
    const behaviour: TaskBehaviour = { ...task.behaviour }
    let result: SimExecutionResult | undefined
    try {
      for (let attempt = 0; ; attempt++) {
        result = createResult(model, session, task, node, now())
        addDetail(result, texts.details.triggered, now())
        const abortSelf = (user: string): void => controller.abort({ kind: 'abort', user } satisfies StopReason)
        const outcome = await runAttempt({ ...this.deps, task, session, result, behaviour, attempt, signal, abortSelf })
        if (outcome.kind === 'fail' && attempt < task.maxRetries) {
          finishResult(result, 10, texts.details.retry, now(), 1)
          continue
        }
        await this.finish(task, session, result, outcome)
        return
      }
    } catch (err) {
      const reason = signal.reason as StopReason | undefined
      if (!signal.aborted || !reason || !result) throw err
      if (reason.kind === 'cancel') {
        model.executionSessions.delete(session.id)
        return
      }
      await this.abortRun(task, session, result, reason.user)
    }
  }

  /** §4.5 success / fail endings, in the §3.7 order. */
  private async finish(
    task: SimTask,
    session: SimExecutionSession,
    result: SimExecutionResult,
    outcome: AttemptOutcome,
  ): Promise<void> {
    const { model, texts } = this.deps
    const success = outcome.kind === 'success'
    const isDistribute = task.taskType === 3
    const applyFinalState = (): void => {
      if (success) {
        finishResult(
          result,
          7,
          isDistribute ? texts.details.distributionFinishedSuccess : texts.details.finishedSuccess,
          now(),
        )
        const app = task.taskType === 0 && task.appId ? model.apps.get(task.appId) : undefined
        // Engine model: a successful scheduled reload updates the app's reload time.
        if (app) {
          app.lastReloadTime = result.stopTime
          app.modifiedDate = result.stopTime
        }
      } else {
        finishResult(
          result,
          8,
          isDistribute ? texts.details.distributionFinishedFail : texts.details.finishedFail,
          now(),
          texts.details.finishedFailType,
        )
      }
      model.executionSessions.delete(session.id)
    }
    const ending: TaskEnding = success ? 'success' : 'failed'
    await this.inOrder(applyFinalState, () => this.emit(task, session, ending, session.user))
    if (success) this.startChained(task)
  }

  /** §4.5 abort branch: 4 AbortInitiated → datagram → 5 Aborting → 6 Aborted. */
  private async abortRun(
    task: SimTask,
    session: SimExecutionSession,
    result: SimExecutionResult,
    user: string,
  ): Promise<void> {
    const { texts, model } = this.deps
    await this.inOrder(
      () => setStatus(result, 4, texts.details.abortInitiated, now()),
      () => this.emit(task, session, 'aborted', user),
    )
    setStatus(result, 5, texts.details.aborting, now())
    finishResult(result, 6, texts.details.aborted, now())
    model.executionSessions.delete(session.id)
  }

  /** §3.7: QRS state first, then (after the lag) the datagram; reversed by the `qrsLagsBehindUdp` fault. */
  private async inOrder(applyState: () => void, sendDatagram: () => Promise<void>): Promise<void> {
    const { faults } = this.deps
    if (faults.qrsLagsBehindUdp) {
      await sendDatagram()
      await sleep(faults.udpLagMs)
      applyState()
      return
    }
    applyState()
    if (faults.udpLagMs > 0) await sleep(faults.udpLagMs)
    await sendDatagram()
  }

  private async emit(task: SimTask, session: SimExecutionSession, ending: TaskEnding, user: string): Promise<void> {
    const datagram = datagramFor(this.deps, task, session, ending, user, new Date())
    if (datagram) await this.deps.sender.send(datagram)
  }

  /** The chain: tasks whose trigger is "after success of" this one start as the scheduler would. */
  private startChained(task: SimTask): void {
    const key = task.id.toLowerCase()
    for (const next of this.deps.model.tasks.values()) {
      if (next.startAfterSuccessOf.some((id) => id.toLowerCase() === key)) {
        this.start(next.id, this.deps.texts.datagram.schedulerUser)
      }
    }
  }
}

function now(): string {
  return new Date().toISOString()
}
