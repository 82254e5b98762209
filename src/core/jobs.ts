import { randomUUID } from 'node:crypto'
import type { Logger } from '../log.js'
import type { Bus } from './bus.js'
import { type ErrorBody, event } from './envelope.js'
import { CapabilityError, toCapabilityError } from './errors.js'
import type { Identity, Via } from './identity.js'
import type { Topics } from './topics.js'

export type JobState = 'running' | 'completed' | 'failed' | 'cancelled' | 'interrupted'

/** What `<base>/state/job/<id>` holds (retained) and `job/status` answers. */
export interface JobRecord {
  id: string
  capability: string
  state: JobState
  startedAt: string
  endedAt?: string
  owner: { via: Via; user?: string | undefined; clientId?: string | undefined; tokenName?: string | undefined }
  transaction?: string | number | undefined
  /** The latest progress report. */
  progress?: Record<string, unknown>
  result?: unknown
  error?: ErrorBody
}

export interface JobContext {
  id: string
  signal: AbortSignal
  progress(data: Record<string, unknown>): void
}

export interface JobsOptions {
  bus: Bus
  topics: Topics
  log: Logger
  /** Jobs running at once over all callers; more are refused with BUSY. */
  maxRunning: number
  /** How long a finished job's record and retained state stay around. */
  retainMs: number
  /** Least time between two retained-state updates for progress (events go out every time). */
  progressStateEveryMs?: number
}

export type JobOutcome = { ok: true; data: unknown } | { ok: false; error: CapabilityError }

interface Running {
  record: JobRecord
  abort: AbortController
  lastStateAt: number
}

/**
 * Long-running work, defined once: a job has an id, reports progress as events, keeps its latest
 * state retained, ends with a result event, can be cancelled, and outlives the connection of whoever
 * started it. Every door gets the same behaviour because the dispatcher runs every job through here.
 */
export class Jobs {
  private readonly running = new Map<string, Running>()
  private readonly finished = new Map<string, JobRecord>()
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly source: string

  constructor(private readonly opts: JobsOptions) {
    this.source = `sensebus/${opts.bus.id}`
  }

  /** Marks jobs a previous run left `running` as `interrupted`, so nobody waits on them forever. */
  async recover(): Promise<void> {
    const { bus, topics } = this.opts
    for (const { topic, payload } of await bus.retained(topics.jobState('+'))) {
      let record: JobRecord
      try {
        record = JSON.parse(payload.toString()) as JobRecord
      } catch {
        continue
      }
      if (record.state === 'running') {
        record = { ...record, state: 'interrupted', endedAt: new Date().toISOString() }
        await bus.publish(topic, record, { qos: 1, retain: true })
      }
      this.finished.set(record.id, record)
      this.forgetLater(record.id)
    }
  }

  start(opts: {
    capability: string
    identity: Identity
    transaction?: string | number | undefined
    timeoutMs: number
    run(ctx: JobContext): Promise<unknown>
  }): { id: string; done: Promise<JobOutcome> } {
    if (this.running.size >= this.opts.maxRunning) {
      throw new CapabilityError('BUSY', `Too many jobs running (${this.opts.maxRunning}); retry later`)
    }
    const id = randomUUID()
    const { identity } = opts
    const record: JobRecord = {
      id,
      capability: opts.capability,
      state: 'running',
      startedAt: new Date().toISOString(),
      owner: { via: identity.via, user: identity.user, clientId: identity.clientId, tokenName: identity.tokenName },
      ...(opts.transaction !== undefined ? { transaction: opts.transaction } : {}),
    }
    const abort = new AbortController()
    const job: Running = { record, abort, lastStateAt: 0 }
    this.running.set(id, job)
    this.publishState(record)
    const timer = setTimeout(
      () =>
        abort.abort(new CapabilityError('TIMEOUT', `'${opts.capability}' did not finish within ${opts.timeoutMs} ms`)),
      opts.timeoutMs,
    )
    const aborted = new Promise<never>((_, reject) => {
      abort.signal.addEventListener('abort', () => reject(abort.signal.reason), { once: true })
    })
    const ctx: JobContext = { id, signal: abort.signal, progress: (data) => this.progress(job, data) }
    const done = Promise.race([opts.run(ctx), aborted])
      .then((data): JobOutcome => ({ ok: true, data }))
      .catch((err: unknown): JobOutcome => ({ ok: false, error: toCapabilityError(err) }))
      .then((outcome) => {
        clearTimeout(timer)
        this.finish(job, outcome)
        return outcome
      })
    return { id, done }
  }

  /** Stops a running job: its owner may, and so may an admin. */
  cancel(id: string, by: Identity): JobRecord {
    const job = this.running.get(id)
    if (!job) {
      const done = this.finished.get(id)
      if (done) throw new CapabilityError('CONFLICT', `Job ${id} already ended (${done.state})`, { details: done })
      throw new CapabilityError('NOT_FOUND', `No job ${id}`)
    }
    if (!this.mayControl(job.record, by)) throw new CapabilityError('FORBIDDEN', `Job ${id} belongs to someone else`)
    job.abort.abort(new CapabilityError('CANCELLED', `Job ${id} was cancelled`))
    return job.record
  }

  get(id: string, by: Identity): JobRecord {
    const record = this.running.get(id)?.record ?? this.finished.get(id)
    if (!record) throw new CapabilityError('NOT_FOUND', `No job ${id}`)
    if (!this.mayControl(record, by)) throw new CapabilityError('FORBIDDEN', `Job ${id} belongs to someone else`)
    return record
  }

  /** The jobs this caller may see: its own, or all of them for an admin. */
  list(by: Identity): JobRecord[] {
    const all = [...[...this.running.values()].map((r) => r.record), ...this.finished.values()]
    return all.filter((r) => this.mayControl(r, by)).sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1))
  }

  runningCount(): number {
    return this.running.size
  }

  /** Shutdown: every running job is aborted and ends `interrupted`. */
  async stop(): Promise<void> {
    for (const job of this.running.values()) {
      job.abort.abort(new CapabilityError('SHUTTING_DOWN', 'sensebus is shutting down'))
    }
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
  }

  private mayControl(record: JobRecord, by: Identity): boolean {
    if (by.roles.includes('admin')) return true
    const o = record.owner
    if (o.user !== undefined) return o.user === by.user
    if (o.tokenName !== undefined) return o.tokenName === by.tokenName
    return o.clientId !== undefined && o.clientId === by.clientId
  }

  private progress(job: Running, data: Record<string, unknown>): void {
    if (job.record.state !== 'running') return
    job.record.progress = data
    const { bus, topics, log } = this.opts
    const payload = event('sense.job.progress', this.source, {
      jobId: job.record.id,
      capability: job.record.capability,
      ...data,
    })
    bus.publish(topics.jobEvent(job.record.id, 'progress'), payload, { qos: 0 }).catch((err: unknown) => {
      log.warn({ err, jobId: job.record.id }, 'could not publish job progress')
    })
    const now = Date.now()
    if (now - job.lastStateAt >= (this.opts.progressStateEveryMs ?? 1000)) {
      job.lastStateAt = now
      this.publishState(job.record)
    }
  }

  private finish(job: Running, outcome: JobOutcome): void {
    const { record } = job
    this.running.delete(record.id)
    record.endedAt = new Date().toISOString()
    if (outcome.ok) {
      record.state = 'completed'
      record.result = outcome.data
    } else {
      const code = outcome.error.code
      record.state = code === 'CANCELLED' ? 'cancelled' : code === 'SHUTTING_DOWN' ? 'interrupted' : 'failed'
      record.error = outcome.error.toJSON()
    }
    this.finished.set(record.id, record)
    this.publishState(record)
    const what = record.state === 'completed' ? 'completed' : record.state === 'cancelled' ? 'cancelled' : 'failed'
    const durationMs = Date.parse(record.endedAt) - Date.parse(record.startedAt)
    const data = {
      jobId: record.id,
      capability: record.capability,
      state: record.state,
      durationMs,
      ...(outcome.ok ? { result: outcome.data } : { error: record.error }),
    }
    this.opts.bus
      .publish(this.opts.topics.jobEvent(record.id, what), event(`sense.job.${what}`, this.source, data), { qos: 1 })
      .catch((err: unknown) => this.opts.log.warn({ err, jobId: record.id }, 'could not publish the job result'))
    this.forgetLater(record.id)
  }

  private publishState(record: JobRecord): void {
    this.opts.bus
      .publish(this.opts.topics.jobState(record.id), record, { qos: 1, retain: true })
      .catch((err: unknown) => this.opts.log.warn({ err, jobId: record.id }, 'could not publish the job state'))
  }

  private forgetLater(id: string): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      this.finished.delete(id)
      this.opts.bus
        .publish(this.opts.topics.jobState(id), '', { qos: 1, retain: true })
        .catch((err: unknown) => this.opts.log.debug({ err, jobId: id }, 'could not clear a job state'))
    }, this.opts.retainMs)
    timer.unref()
    this.timers.add(timer)
  }
}
