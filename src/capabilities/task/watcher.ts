import type { Bus } from '../../core/bus.js'
import { event } from '../../core/envelope.js'
import { CapabilityError, toCapabilityError } from '../../core/errors.js'
import type { Topics } from '../../core/topics.js'
import type { Logger } from '../../log.js'
import type { ExecutionResult, QrsClient } from '../../sense/qrs/index.js'
import { executionRecord, isFinal, latestAttempt } from './records.js'
import type { ExecutionRecord, TaskConfig } from './schema.js'

export interface WatchTarget {
  taskId: string
  taskName: string
  executionId: string
}

interface Watch {
  target: WatchTarget
  last?: ExecutionRecord
  onChange(record: ExecutionRecord): void
  resolve(record: ExecutionRecord): void
  reject(err: CapabilityError): void
}

export interface WatcherDeps {
  qrs: () => QrsClient
  bus: Bus
  topics: Topics
  log: Logger
  config: TaskConfig
}

/** Execution ids per QRS query: keeps the filter, and so the URL, short. */
const IDS_PER_QUERY = 25

/**
 * Follows started runs until they end. One poller for every run sensebus started, whoever asked: each
 * tick is one `executionresult/full` query per 25 runs, however many jobs wait on them. The end of each
 * run is published once, as an event and as the task's retained state.
 */
export class ExecutionWatcher {
  private readonly watches = new Map<string, Set<Watch>>()
  private timer: NodeJS.Timeout | undefined
  private failingSince: number | undefined
  private stopped = false
  private readonly source: string

  constructor(private readonly deps: WatcherDeps) {
    this.source = `sensebus/${deps.bus.id}`
  }

  /** Announces a run that just started: the `started` event and the task's retained state. */
  started(target: WatchTarget): void {
    const record = executionRecord(target, undefined)
    this.publish('started', { ...record, startedAt: new Date().toISOString() })
  }

  /** Resolves with the run's final record; `onChange` sees every status change before that. */
  watch(target: WatchTarget, onChange: (r: ExecutionRecord) => void, signal: AbortSignal): Promise<ExecutionRecord> {
    return new Promise((resolve, reject) => {
      const key = target.executionId.toLowerCase()
      const watch: Watch = {
        target,
        onChange,
        resolve: (r) => {
          signal.removeEventListener('abort', onAbort)
          resolve(r)
        },
        reject: (e) => {
          signal.removeEventListener('abort', onAbort)
          reject(e)
        },
      }
      const onAbort = () => {
        this.forget(key, watch)
        reject(signal.reason)
      }
      if (signal.aborted) return onAbort()
      signal.addEventListener('abort', onAbort, { once: true })
      let set = this.watches.get(key)
      if (!set) this.watches.set(key, (set = new Set()))
      set.add(watch)
      this.schedule()
    })
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
    for (const set of this.watches.values())
      for (const w of set) w.reject(new CapabilityError('SHUTTING_DOWN', 'sensebus is shutting down'))
    this.watches.clear()
  }

  private forget(key: string, watch: Watch): void {
    const set = this.watches.get(key)
    set?.delete(watch)
    if (set?.size === 0) this.watches.delete(key)
  }

  private schedule(): void {
    if (this.timer || this.stopped || this.watches.size === 0) return
    this.timer = setTimeout(() => {
      this.tick()
        .catch((err: unknown) => this.deps.log.error({ err }, 'execution poll failed'))
        .finally(() => {
          this.timer = undefined
          this.schedule()
        })
    }, this.deps.config.pollIntervalMs)
    this.timer.unref()
  }

  private async tick(): Promise<void> {
    const keys = [...this.watches.keys()]
    const byExecution = new Map<string, ExecutionResult[]>()
    try {
      for (let i = 0; i < keys.length; i += IDS_PER_QUERY) {
        const chunk = keys.slice(i, i + IDS_PER_QUERY)
        // Ids came from QRS itself (start/synchronous), so they are GUIDs and go in unquoted (§1.5.1).
        const filter = chunk.map((id) => `ExecutionId eq ${id}`).join(' or ')
        for (const r of await this.deps.qrs().getList<ExecutionResult>('executionresult/full', filter)) {
          const k = String(r.executionID).toLowerCase()
          byExecution.set(k, [...(byExecution.get(k) ?? []), r])
        }
      }
      this.failingSince = undefined
    } catch (err) {
      this.unreachable(toCapabilityError(err))
      return
    }
    for (const key of keys) {
      const set = this.watches.get(key)
      if (!set) continue
      const latest = latestAttempt(byExecution.get(key) ?? [])
      if (!latest) continue
      const first = [...set][0] as Watch
      const record = executionRecord(first.target, latest)
      if (isFinal(latest.status)) {
        this.watches.delete(key)
        // Not awaited: a failed run's script log takes a while, and must not hold back other runs' ends.
        void this.end(set, record, latest)
        continue
      }
      for (const w of set) {
        if (w.last?.statusCode === record.statusCode) continue
        w.last = record
        w.onChange(record)
      }
    }
  }

  private async end(set: Set<Watch>, record: ExecutionRecord, result: ExecutionResult): Promise<void> {
    const ended = await this.withLogTail(record, result)
    this.publish(ended.succeeded ? 'finished' : 'failed', ended)
    for (const w of set) w.resolve(ended)
  }

  /** QRS keeps failing: after `unreachableGiveUpMs` every follower gets the error. */
  private unreachable(err: CapabilityError): void {
    const now = Date.now()
    this.failingSince ??= now
    this.deps.log.debug({ code: err.code }, 'QRS did not answer an execution poll')
    if (now - this.failingSince < this.deps.config.unreachableGiveUpMs) return
    const message = `Could not follow the task runs: ${err.message}`
    const code = err.code === 'TIMEOUT' ? 'SENSE_UNREACHABLE' : err.code
    for (const set of this.watches.values())
      for (const w of set) w.reject(new CapabilityError(code, message, { details: err.details }))
    this.watches.clear()
    this.failingSince = undefined
  }

  private async withLogTail(record: ExecutionRecord, result: ExecutionResult): Promise<ExecutionRecord> {
    const lines = this.deps.config.scriptLogTailLines
    if (record.succeeded || lines === 0 || !result.scriptLogAvailable) return record
    try {
      const log = await this.deps.qrs().getScriptLog(record.taskId, result)
      const all = log.split(/\r?\n/)
      while (all.length > 0 && all.at(-1) === '') all.pop()
      return { ...record, scriptLogTail: all.slice(-lines) }
    } catch (err) {
      this.deps.log.debug({ err, taskId: record.taskId }, 'no script log for a failed run')
      return record
    }
  }

  private publish(what: 'started' | 'finished' | 'failed', record: ExecutionRecord): void {
    const { bus, topics, log } = this.deps
    const payload = event(`sense.task.${what}`, this.source, record)
    bus.publish(topics.event('task', what), payload, { qos: 1 }).catch((err: unknown) => {
      log.warn({ err, taskId: record.taskId }, 'could not publish a task event')
    })
    bus.publish(topics.state('task', record.taskId), record, { qos: 1, retain: true }).catch((err: unknown) => {
      log.warn({ err, taskId: record.taskId }, 'could not publish a task state')
    })
  }
}
