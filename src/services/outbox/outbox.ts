import { randomUUID } from 'node:crypto'
import type { Collection, Store } from '../../core/store.js'
import type { Logger } from '../../log.js'
import { type BackoffPolicy, nextDelayMs } from './backoff.js'
import { DeliveryError } from './errors.js'
import type { DeliveryHandler, KindOptions, Outbox, OutboxItem, Outcome } from './types.js'

export interface OutboxOptions extends BackoffPolicy {
  store: Store
  log: Logger
  maxAttempts: number
  /** Deliveries at once over all kinds. */
  concurrency: number
  timeoutMs: number
  /** How long delivered items (and idempotency keys) are kept, for listings and duplicate checks. */
  retainMs: number
  /**
   * Shared store (several instances): each attempt is claimed first (a lease that outlives the attempt's
   * timeout), and items enqueued or rescheduled by others are picked up from the pending index every
   * `pollMs`. An item whose owner died is retried by another instance once its lease lapses.
   */
  shared?: { instance: string; pollMs: number }
}

/** How much longer than an attempt's timeout its lease lasts (time to record the outcome), at most. */
const LEASE_MARGIN_MS = 10_000
const leaseMs = (timeoutMs: number) => timeoutMs + Math.min(LEASE_MARGIN_MS, timeoutMs)

interface Kind {
  handler: DeliveryHandler<unknown>
  maxAttempts: number
  concurrency: number
  timeoutMs: number
  active: number
}

/**
 * A durable queue of deliveries on the platform store: an item is written before anyone counts on
 * it, delivered at least once (an attempt interrupted by a crash runs again after the restart),
 * retried with backoff, and moved to dead letters when attempts run out or the receiver refuses it
 * for good. Nothing is lost by a receiver outage or a restart.
 */
export class DurableOutbox implements Outbox {
  private readonly items: Collection<OutboxItem>
  private readonly keys: Collection<string>
  /** Id → due time of every pending item, written with the item in one step: what instances poll. */
  private readonly due: Collection<number>
  private readonly leases: Collection<string>
  private pollTimer: NodeJS.Timeout | undefined
  private readonly kinds = new Map<string, Kind>()
  /** Pending items, by id (delivered ones live only in the store). */
  private readonly pending = new Map<string, OutboxItem>()
  private readonly delivering = new Set<string>()
  private readonly listeners = new Set<(item: OutboxItem, outcome: Outcome) => void>()
  private dead = 0
  private timer: NodeJS.Timeout | undefined
  private closed = false
  private readonly inFlight = new Set<Promise<void>>()

  private constructor(private readonly opts: OutboxOptions) {
    this.items = opts.store.collection<OutboxItem>('outbox')
    this.keys = opts.store.collection<string>('outbox-key')
    this.due = opts.store.collection<number>('outbox-due')
    this.leases = opts.store.collection<string>('outbox-lease')
  }

  static async open(opts: OutboxOptions): Promise<DurableOutbox> {
    const outbox = new DurableOutbox(opts)
    for (const item of (await outbox.items.list()).map((e) => e.value)) {
      if (item.state === 'pending') outbox.pending.set(item.id, item)
      else if (item.state === 'dead') outbox.dead++
    }
    if (opts.shared) outbox.armPoll()
    return outbox
  }

  /** The item and its place in the pending index, in one durable step. */
  private save(item: OutboxItem, expiresAt?: number): Promise<void> {
    return this.opts.store.batch([
      { collection: 'outbox', type: 'set', key: item.id, value: item, expiresAt },
      item.state === 'pending'
        ? { collection: 'outbox-due', type: 'set', key: item.id, value: item.nextAttemptAt }
        : { collection: 'outbox-due', type: 'delete', key: item.id },
    ])
  }

  private armPoll(): void {
    if (this.closed || !this.opts.shared) return
    this.pollTimer = setTimeout(() => {
      this.poll()
        .catch((err: unknown) => this.opts.log.warn({ err }, 'could not read the shared outbox'))
        .finally(() => this.armPoll())
    }, this.opts.shared.pollMs)
    this.pollTimer.unref()
  }

  /** Shared store: takes in what other instances enqueued or rescheduled, drops what they finished. */
  private async poll(): Promise<void> {
    const index = new Map((await this.due.list()).map((e) => [e.key, e.value]))
    for (const id of [...this.pending.keys()]) {
      if (!index.has(id) && !this.delivering.has(id)) this.pending.delete(id)
    }
    for (const [id, at] of index) {
      const known = this.pending.get(id)
      if (this.delivering.has(id) || (known && known.nextAttemptAt === at)) continue
      const item = (await this.items.get(id))?.value
      if (item?.state === 'pending' && !this.delivering.has(id)) this.pending.set(id, item)
    }
    this.pump()
  }

  register<P>(kind: string, handler: DeliveryHandler<P>, o: KindOptions = {}): void {
    this.kinds.set(kind, {
      handler: handler as DeliveryHandler<unknown>,
      maxAttempts: o.maxAttempts ?? this.opts.maxAttempts,
      concurrency: o.concurrency ?? this.opts.concurrency,
      timeoutMs: o.timeoutMs ?? this.opts.timeoutMs,
      active: 0,
    })
    this.pump()
  }

  async enqueue<P>(
    batch: Array<{ kind: string; key: string; payload: P; meta?: Record<string, unknown> }>,
  ): Promise<OutboxItem<P>[]> {
    const now = Date.now()
    const expiresAt = now + this.opts.retainMs
    const newItem = (b: (typeof batch)[number], id: string): OutboxItem<P> => ({
      id,
      kind: b.kind,
      key: b.key,
      payload: b.payload,
      meta: b.meta ?? {},
      state: 'pending',
      attempts: 0,
      createdAt: now,
      nextAttemptAt: now,
    })
    const results = await Promise.all(
      batch.map(async (b) => {
        const id = randomUUID()
        if (await this.keys.create(b.key, id, { expiresAt })) return { item: newItem(b, id), fresh: true }
        const known = await this.keys.get(b.key)
        const existing = known && (await this.items.get(known.value))
        // The key was written but the process died before its item was: this call is the retry the
        // crash needs (the alert intake runs again after a restart), so the item is made now.
        if (known && !existing) return { item: newItem(b, known.value), fresh: true }
        return { item: (existing?.value ?? undefined) as OutboxItem<P> | undefined, fresh: false, key: b.key }
      }),
    )
    const fresh = results.filter((r) => r.fresh).map((r) => r.item as OutboxItem<P>)
    await this.opts.store.batch(
      fresh.flatMap((item) => [
        { collection: 'outbox', type: 'set' as const, key: item.id, value: item },
        { collection: 'outbox-due', type: 'set' as const, key: item.id, value: item.nextAttemptAt },
      ]),
    )
    for (const item of fresh) this.pending.set(item.id, item)
    this.pump()
    return results.map((r) => r.item).filter((i): i is OutboxItem<P> => i !== undefined)
  }

  async retry(id: string): Promise<OutboxItem> {
    const item = this.pending.get(id) ?? (await this.items.get(id))?.value
    if (!item) throw new DeliveryError(`No outbox item ${id}`, { permanent: true })
    if (item.state === 'delivered') return item
    if (item.state === 'dead') this.dead--
    const again: OutboxItem = { ...item, state: 'pending', attempts: 0, nextAttemptAt: Date.now() }
    await this.save(again)
    if (!this.delivering.has(id)) this.pending.set(id, again)
    this.pump()
    return again
  }

  async get(id: string): Promise<OutboxItem | undefined> {
    return this.pending.get(id) ?? (await this.items.get(id))?.value
  }

  async list(filter: { state?: OutboxItem['state']; kind?: string; limit?: number } = {}): Promise<OutboxItem[]> {
    const all = (await this.items.list()).map((e) => this.pending.get(e.key) ?? e.value)
    return all
      .filter(
        (i) =>
          (filter.state === undefined || i.state === filter.state) &&
          (filter.kind === undefined || i.kind === filter.kind),
      )
      .sort((a, b) => b.createdAt - a.createdAt)
      .slice(0, filter.limit ?? 100)
  }

  stats() {
    return { pending: this.pending.size, delivering: this.delivering.size, dead: this.dead }
  }

  onOutcome(listener: (item: OutboxItem, outcome: Outcome) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Stops starting deliveries and waits for those under way to record their outcome. */
  async close(): Promise<void> {
    this.closed = true
    clearTimeout(this.timer)
    clearTimeout(this.pollTimer)
    await Promise.all([...this.inFlight])
  }

  /** Starts every due delivery the limits allow, then sleeps until the next one comes due. */
  private pump(): void {
    if (this.closed) return
    clearTimeout(this.timer)
    const now = Date.now()
    let next = Number.POSITIVE_INFINITY
    for (const item of this.pending.values()) {
      if (this.delivering.has(item.id)) continue
      const kind = this.kinds.get(item.kind)
      if (!kind) continue
      if (item.nextAttemptAt > now) {
        next = Math.min(next, item.nextAttemptAt)
        continue
      }
      if (this.delivering.size >= this.opts.concurrency || kind.active >= kind.concurrency) continue
      const run = this.deliver(item, kind).finally(() => {
        this.inFlight.delete(run)
        this.pump()
      })
      this.inFlight.add(run)
    }
    if (next !== Number.POSITIVE_INFINITY) {
      this.timer = setTimeout(() => this.pump(), Math.min(Math.max(next - Date.now(), 0), 2 ** 31 - 1))
      this.timer.unref()
    }
  }

  /**
   * Shared store: the attempt is this instance's only if its lease is taken; then the item is read
   * again, since another instance may have delivered it since this one last polled. Undefined: not ours.
   */
  private async claim(queued: OutboxItem, kind: Kind): Promise<OutboxItem | undefined> {
    const instance = (this.opts.shared as { instance: string }).instance
    const later = () => {
      // Someone else's for now: look again when its lease may have lapsed, not at once.
      if (this.pending.get(queued.id) === queued)
        this.pending.set(queued.id, { ...queued, nextAttemptAt: Date.now() + leaseMs(kind.timeoutMs) })
      return undefined
    }
    try {
      const lease = { expiresAt: Date.now() + leaseMs(kind.timeoutMs) }
      if (!(await this.leases.create(queued.id, instance, lease))) return later()
      const current = (await this.items.get(queued.id))?.value
      if (current?.state === 'pending' && current.nextAttemptAt <= Date.now()) return current
      await this.leases.delete(queued.id)
      if (current?.state === 'pending') {
        if (this.pending.get(queued.id) === queued) this.pending.set(queued.id, current)
      } else if (this.pending.get(queued.id) === queued) this.pending.delete(queued.id)
      return undefined
    } catch (err) {
      this.opts.log.warn({ err, id: queued.id }, 'could not claim a delivery')
      return later()
    }
  }

  private async deliver(queued: OutboxItem, kind: Kind): Promise<void> {
    this.delivering.add(queued.id)
    kind.active++
    const item = this.opts.shared ? await this.claim(queued, kind) : queued
    if (!item) {
      this.delivering.delete(queued.id)
      kind.active--
      return
    }
    const attempt = { ...item, attempts: item.attempts + 1 }
    const signal = AbortSignal.timeout(kind.timeoutMs)
    let outcome: Outcome
    let next: OutboxItem
    try {
      const receipt = await kind.handler(attempt, signal)
      next = { ...attempt, state: 'delivered', deliveredAt: Date.now(), ...(receipt ? { receipt } : {}) }
      outcome = 'delivered'
    } catch (err) {
      const e =
        err instanceof DeliveryError ? err : new DeliveryError((err as Error).message ?? String(err), { cause: err })
      const dead = e.permanent || attempt.attempts >= kind.maxAttempts
      const wait = nextDelayMs(attempt.attempts, this.opts, e.options.retryAfterMs)
      next = { ...attempt, state: dead ? 'dead' : 'pending', lastError: e.message, nextAttemptAt: Date.now() + wait }
      outcome = dead ? 'dead' : 'retrying'
      this.opts.log.info(
        { id: item.id, kind: item.kind, attempt: attempt.attempts, err: e.message, outcome },
        'delivery failed',
      )
    }
    try {
      const expiresAt = next.state === 'delivered' ? Date.now() + this.opts.retainMs : undefined
      await this.save(next, expiresAt)
      if (this.opts.shared) await this.leases.delete(item.id)
    } catch (err) {
      // The outcome could not be recorded: keep the item pending so it is tried again (at least once).
      this.opts.log.error({ err, id: item.id }, 'could not record a delivery outcome')
      next = { ...next, state: 'pending' }
      outcome = 'retrying'
    } finally {
      this.delivering.delete(item.id)
      kind.active--
    }
    // A retry() during the attempt wins: it already reset the item.
    if (this.pending.get(item.id) === queued) {
      if (next.state === 'pending') this.pending.set(item.id, next)
      else this.pending.delete(item.id)
      if (next.state === 'dead') this.dead++
    }
    for (const l of this.listeners) {
      try {
        l(next, outcome)
      } catch (err) {
        this.opts.log.warn({ err }, 'outbox listener failed')
      }
    }
  }
}
