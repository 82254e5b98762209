import type { Bus } from '../../core/bus.js'
import { type Envelope, fail } from '../../core/envelope.js'
import { CapabilityError } from '../../core/errors.js'
import { actingFor } from '../../core/identity.js'
import type { Collection } from '../../core/store.js'
import type { Topics } from '../../core/topics.js'
import type { Logger } from '../../log.js'
import type { Clock } from './clock.js'
import { DueQueue } from './due-queue.js'
import { SchedulePublisher } from './publisher.js'
import { nextRunAfter } from './next-run.js'
import { iso, type ScheduleRecord, timingOf, toView } from './record.js'
import type { LastResult, ScheduleConfig, ScheduleView } from './schema.js'

export interface SchedulerDeps {
  collection: Collection<ScheduleRecord>
  bus: Bus
  topics: Topics
  log: Logger
  clock: Clock
  config: ScheduleConfig
  /**
   * Shared store (several instances): each due run is claimed here first, keyed by schedule and
   * planned instant, so one instance fires it; the others only plan their next run.
   */
  shared?: { leases: Collection<string>; instance: string; syncMs: number }
}

/** How long a claimed tick is remembered: far longer than any clock skew or late timer between instances. */
const TICK_LEASE_MS = 6 * 3600_000

type Trigger = 'schedule' | 'missed' | 'manual'

/**
 * Runs the schedules: one timer for the earliest due run, each run a request on the bus under its
 * owner's identity (so grants and allow-lists apply as to any caller), its outcome kept on the
 * schedule, published, and never thrown. The store holds every schedule with its last state, so a
 * restart resumes each one as it was.
 */
export class Scheduler {
  private readonly records = new Map<string, ScheduleRecord>()
  private readonly inFlight = new Map<string, number>()
  private readonly queue = new DueQueue()
  private readonly writes = new Map<string, Promise<void>>()
  private readonly runs = new Set<Promise<void>>()
  private cancelTimer: (() => void) | undefined
  private syncTimer: NodeJS.Timeout | undefined
  private timerAt: number | undefined
  private started = false
  private stopped = false
  private counter = 0
  private readonly out: SchedulePublisher

  constructor(private readonly deps: SchedulerDeps) {
    this.out = new SchedulePublisher(deps.bus, deps.topics, deps.log)
  }

  async load(): Promise<void> {
    for (const entry of await this.deps.collection.list()) this.records.set(entry.key, entry.value)
  }

  /** Resumes every schedule in its last state; runs missed while down are skipped or run once. */
  async start(): Promise<void> {
    this.started = true
    const now = this.deps.clock.now()
    for (const rec of this.records.values()) {
      const due = rec.enabled && rec.nextRun !== null ? Date.parse(rec.nextRun) : undefined
      if (due !== undefined && due > now) {
        // Still ahead: the stored next run is the first after now too (nothing matched in between), so it is
        // queued as stored. Recomputing costs croner up to a millisecond per sparse (yearly) pattern, which
        // made start-up grow by seconds per thousand schedules; nothing changed, so nothing is written.
        this.queue.set(rec.id, due)
        this.publishState(rec)
        continue
      }
      if (due !== undefined) {
        if (rec.missedRuns === 'run-once') {
          this.due(rec, 'missed', due)
          continue
        }
        // On a shared store another instance that stayed up most likely ran it: not reported as missed.
        if (!this.deps.shared) this.skip(rec, 'missed', due)
      }
      this.plan(rec, now)
      this.changed(rec)
    }
    await this.out.clearStale(this.records.keys())
    this.arm()
    if (this.deps.shared) this.armSync(this.deps.shared.syncMs)
  }

  /** Stops timers; runs in flight are let go (their outcome is not recorded), pending writes finish. */
  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.syncTimer)
    this.cancelTimer?.()
    this.cancelTimer = undefined
    await Promise.allSettled([...this.writes.values()])
  }

  now(): number {
    return this.deps.clock.now()
  }

  get size(): number {
    return this.records.size
  }

  has(id: string): boolean {
    return this.records.has(id)
  }

  record(id: string): ScheduleRecord {
    const rec = this.records.get(id)
    if (!rec) throw new CapabilityError('NOT_FOUND', `Schedule '${id}' does not exist`, { details: { id } })
    return rec
  }

  view(id: string): ScheduleView {
    return toView(this.record(id), this.inFlight.get(id) ?? 0)
  }

  views(): ScheduleView[] {
    return [...this.records.values()]
      .sort((a, b) => a.created.localeCompare(b.created) || a.id.localeCompare(b.id))
      .map((rec) => toView(rec, this.inFlight.get(rec.id) ?? 0))
  }

  /** Stores a new or changed schedule and replans it; resolves once it is durable. */
  async put(rec: ScheduleRecord, replan: boolean): Promise<ScheduleView> {
    this.records.set(rec.id, rec)
    if (replan) this.plan(rec, this.deps.clock.now())
    await this.save(rec.id)
    this.publishState(rec)
    this.arm()
    return this.view(rec.id)
  }

  async remove(id: string): Promise<void> {
    this.record(id)
    this.records.delete(id)
    this.queue.remove(id)
    await this.save(id)
    this.out.cleared(id)
    this.arm()
  }

  async setEnabled(id: string, enabled: boolean): Promise<ScheduleView> {
    const rec = this.record(id)
    if (rec.enabled === enabled) return this.view(id)
    return this.put({ ...rec, enabled, updated: new Date(this.deps.clock.now()).toISOString() }, true)
  }

  /** A run now, outside the schedule (its next run stays as planned). */
  runNow(id: string): { transaction: string; firedAt: string } {
    const rec = this.record(id)
    if (!rec.allowOverlap && (this.inFlight.get(id) ?? 0) > 0)
      throw new CapabilityError('CONFLICT', `Schedule '${id}' is still running and does not allow overlap`, {
        details: { id },
      })
    return this.fire(rec, 'manual', undefined) as { transaction: string; firedAt: string }
  }

  private plan(rec: ScheduleRecord, from: number): void {
    const next = rec.enabled ? nextRunAfter(timingOf(rec), from) : undefined
    rec.nextRun = iso(next)
    if (next === undefined) this.queue.remove(rec.id)
    else this.queue.set(rec.id, next)
  }

  private arm(): void {
    if (!this.started || this.stopped) return
    const next = this.queue.peek()
    if (next === this.timerAt) return
    this.cancelTimer?.()
    this.cancelTimer = undefined
    this.timerAt = next
    if (next === undefined) return
    this.cancelTimer = this.deps.clock.at(next, () => {
      this.timerAt = undefined
      this.cancelTimer = undefined
      this.onTimer()
    })
  }

  private onTimer(): void {
    if (this.stopped) return
    for (const { id, at } of this.queue.popDue(this.deps.clock.now())) {
      const rec = this.records.get(id)
      if (rec) this.due(rec, 'schedule', at)
    }
    this.arm()
  }

  /** A due run: fired here, or on a shared store only by the instance whose claim of the tick succeeds. */
  private due(rec: ScheduleRecord, trigger: Trigger, scheduledFor: number): void {
    const shared = this.deps.shared
    if (!shared) {
      this.fire(rec, trigger, scheduledFor)
      return
    }
    this.plan(rec, Math.max(this.deps.clock.now(), scheduledFor))
    this.arm()
    const tick = `${rec.id}@${scheduledFor}`
    const claim = async () => {
      if (!(await shared.leases.create(tick, shared.instance, { expiresAt: Date.now() + TICK_LEASE_MS }))) return
      // Deleted or disabled on another instance since this one last synced: the tick lapses.
      const stored = (await this.deps.collection.get(rec.id))?.value
      const current = this.records.get(rec.id)
      if (stored?.enabled && current && !this.stopped) this.fire(current, trigger, scheduledFor)
    }
    // Without the claim nobody may know whether another instance fired: skip rather than double.
    claim().catch((err: unknown) =>
      this.deps.log.error({ err, schedule: rec.id, tick }, 'could not claim a schedule tick'),
    )
  }

  private armSync(delay: number): void {
    if (this.stopped) return
    this.syncTimer = setTimeout(() => {
      this.sync()
        .catch((err: unknown) => this.deps.log.warn({ err }, 'could not read schedules from the shared store'))
        .finally(() => this.armSync(delay))
    }, delay)
    this.syncTimer.unref()
  }

  /**
   * Shared store: takes in schedules created, changed or deleted by other instances, and their run
   * state, so any instance can fire any schedule and every one answers reads alike.
   */
  async sync(): Promise<void> {
    const stored = new Map((await this.deps.collection.list()).map((e) => [e.key, e.value]))
    if (this.stopped) return
    const now = this.deps.clock.now()
    for (const [id, rec] of stored) {
      // A write of ours still on its way is newer than what was read.
      if (this.writes.has(id)) continue
      const local = this.records.get(id)
      if (!local || local.updated !== rec.updated) {
        this.records.set(id, rec)
        this.plan(rec, now)
        continue
      }
      if ((this.inFlight.get(id) ?? 0) === 0) {
        local.lastRun = rec.lastRun
        local.lastResult = rec.lastResult
      }
    }
    for (const id of [...this.records.keys()]) {
      if (stored.has(id) || this.writes.has(id)) continue
      this.records.delete(id)
      this.queue.remove(id)
    }
    this.arm()
  }

  /**
   * Starts one run. The next run is planned first, from now, so a late timer (a busy or suspended
   * host) runs once and then keeps to the schedule instead of catching up run by run.
   */
  private fire(rec: ScheduleRecord, trigger: Trigger, scheduledFor: number | undefined) {
    const now = this.deps.clock.now()
    if (trigger !== 'manual') this.plan(rec, Math.max(now, scheduledFor ?? now))
    if (!rec.allowOverlap && (this.inFlight.get(rec.id) ?? 0) > 0) {
      this.skip(rec, 'overlap', scheduledFor)
      this.changed(rec)
      return undefined
    }
    const firedAt = new Date(now).toISOString()
    const transaction = `schedule:${rec.id}:${now}:${++this.counter}`
    rec.lastRun = firedAt
    this.inFlight.set(rec.id, (this.inFlight.get(rec.id) ?? 0) + 1)
    this.changed(rec)
    const { capability } = rec.target
    this.out.event(rec.id, 'fired', {
      scheduleId: rec.id,
      name: rec.name,
      trigger,
      scheduledFor: iso(scheduledFor),
      firedAt,
      capability,
      transaction,
    })
    const run = this.execute(rec, trigger, transaction, firedAt).finally(() => this.runs.delete(run))
    this.runs.add(run)
    return { transaction, firedAt }
  }

  private async execute(rec: ScheduleRecord, trigger: Trigger, transaction: string, firedAt: string) {
    const { id, name } = rec
    const { capability, request } = rec.target
    const started = performance.now()
    let env: Envelope
    try {
      env = await this.deps.bus.request(capability, request, {
        identity: actingFor(rec.owner, 'scheduler', `schedule:${id}`),
        timeoutMs: rec.timeoutMs ?? this.deps.config.runTimeoutMs,
        transaction,
      })
    } catch (err) {
      env = fail(transaction, 'INTERNAL', `The request could not be sent: ${(err as Error).message}`)
    }
    const left = (this.inFlight.get(id) ?? 1) - 1
    if (left > 0) this.inFlight.set(id, left)
    else this.inFlight.delete(id)
    if (this.stopped) return
    const durationMs = Math.round((performance.now() - started) * 1000) / 1000
    const finishedAt = new Date(this.deps.clock.now()).toISOString()
    const error = env.status === 'error' ? { code: env.error.code, message: env.error.message } : undefined
    if (error) this.deps.log.warn({ schedule: id, capability, error }, 'scheduled request failed')
    const result: LastResult = {
      status: env.status,
      at: finishedAt,
      trigger,
      transaction,
      durationMs,
      ...(error ? { error } : {}),
    }
    const current = this.records.get(id)
    if (current) {
      current.lastResult = result
      this.changed(current)
    }
    this.out.event(id, 'finished', {
      scheduleId: id,
      name,
      capability,
      transaction,
      status: env.status,
      firedAt,
      finishedAt,
      durationMs,
      ...(error ? { error } : {}),
    })
  }

  private skip(rec: ScheduleRecord, reason: 'overlap' | 'missed', scheduledFor: number | undefined): void {
    const at = new Date(this.deps.clock.now()).toISOString()
    rec.lastResult = { status: 'skipped', at, reason }
    this.out.event(rec.id, 'skipped', {
      scheduleId: rec.id,
      name: rec.name,
      reason,
      scheduledFor: iso(scheduledFor),
      at,
    })
  }

  /** A run-state change: saved and published in the background (a failed write is logged, never thrown). */
  private changed(rec: ScheduleRecord): void {
    this.save(rec.id).catch((err: unknown) => this.deps.log.error({ err, schedule: rec.id }, 'could not save'))
    this.publishState(rec)
  }

  /** Writes the schedule as it is when the write runs; one write at a time per schedule, in order. */
  private save(id: string): Promise<void> {
    const previous = this.writes.get(id) ?? Promise.resolve()
    const write = previous
      .catch(() => undefined)
      .then(async () => {
        const rec = this.records.get(id)
        if (rec) await this.deps.collection.set(id, rec)
        else await this.deps.collection.delete(id)
      })
    this.writes.set(id, write)
    const forget = () => {
      if (this.writes.get(id) === write) this.writes.delete(id)
    }
    write.then(forget, forget)
    return write
  }

  private publishState(rec: ScheduleRecord): void {
    if (this.stopped) return
    this.out.state(rec.id, toView(rec, this.inFlight.get(rec.id) ?? 0))
  }

  /** Retained states again, after an external broker forgot them. */
  republish(): void {
    for (const rec of this.records.values()) this.publishState(rec)
  }
}
