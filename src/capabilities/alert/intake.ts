import type { Collection } from '../../core/store.js'
import type { Logger } from '../../log.js'
import type { TaskDatagram } from './datagram.js'

interface Received {
  state: 'received' | 'done'
  datagram: TaskDatagram
  receivedAt: string
}

/**
 * Between the socket and the pipeline: dedup by execution id (remembered in the store, so a restart
 * does not forget it) and a durable note of every accepted datagram until its deliveries are in the
 * outbox. After a crash, `recover()` runs the ones that were not finished.
 */
export class Intake {
  private active = 0
  private readonly queue: Array<() => Promise<void>> = []
  private readonly idle = new Set<() => void>()
  duplicates = 0
  failures = 0
  private closed = false
  private recoverTimer: NodeJS.Timeout | undefined

  constructor(
    private readonly seen: Collection<Received>,
    private readonly opts: { dedupTtlMs: number; concurrency: number },
    private readonly log: Logger,
    private readonly run: (d: TaskDatagram, alertId: string, receivedAt: string) => Promise<unknown>,
    /**
     * Shared store: the dedup mark is shared, so a datagram sent to every instance makes one alert;
     * the instance working on one holds a claim it renews, and one whose owner died is taken over
     * (the pipeline is safe to run again: its deliveries have idempotency keys).
     */
    private readonly shared?: { claims: Collection<string>; instance: string; claimMs: number },
  ) {}

  /** Resolves once the datagram is durably noted (or known as a duplicate). */
  async accept(d: TaskDatagram): Promise<'accepted' | 'duplicate'> {
    const receivedAt = new Date().toISOString()
    const fresh = await this.seen.create(d.executionId, { state: 'received', datagram: d, receivedAt })
    if (!fresh) {
      this.duplicates++
      this.log.debug({ executionId: d.executionId }, 'duplicate task event ignored')
      return 'duplicate'
    }
    if (this.shared) await this.claim(d.executionId, 'renew')
    this.schedule(d, receivedAt)
    return 'accepted'
  }

  /**
   * Runs the events noted but not finished: at start-up, and on a shared store every claim period,
   * the ones whose owner stopped renewing its claim.
   */
  async recover(): Promise<number> {
    const open = (await this.seen.list()).filter((e) => e.value.state === 'received')
    let taken = 0
    for (const e of open) {
      if (this.shared && !(await this.claim(e.key, 'take'))) continue
      this.schedule(e.value.datagram, e.value.receivedAt)
      taken++
    }
    if (taken) this.log.info({ count: taken }, 'resuming task events received but not finished')
    return taken
  }

  /** Shared store: re-checks for abandoned events every claim period. */
  watch(): void {
    const shared = this.shared
    if (!shared || this.closed) return
    this.recoverTimer = setTimeout(() => {
      this.recover()
        .catch((err: unknown) => this.log.warn({ err }, 'could not look for abandoned task events'))
        .finally(() => this.watch())
    }, shared.claimMs)
    this.recoverTimer.unref()
  }

  private async claim(executionId: string, how: 'take' | 'renew'): Promise<boolean> {
    const shared = this.shared as NonNullable<typeof this.shared>
    const expiresAt = Date.now() + shared.claimMs * 2
    if (how === 'take') return shared.claims.create(executionId, shared.instance, { expiresAt })
    await shared.claims.set(executionId, shared.instance, { expiresAt })
    return true
  }

  /** Waits for the work under way (and queued) to finish. */
  async drain(): Promise<void> {
    if (this.active === 0 && this.queue.length === 0) return
    await new Promise<void>((resolve) => this.idle.add(resolve))
  }

  close(): void {
    this.closed = true
    clearTimeout(this.recoverTimer)
    this.queue.length = 0
  }

  private schedule(d: TaskDatagram, receivedAt: string): void {
    this.queue.push(async () => {
      // Renewed while the work lasts (enrichment may wait long for a distribute task), so nobody takes it over.
      const renew = this.shared
        ? setInterval(() => {
            this.claim(d.executionId, 'renew').catch((err: unknown) =>
              this.log.warn({ err, executionId: d.executionId }, 'could not renew a task event claim'),
            )
          }, this.shared.claimMs / 2)
        : undefined
      renew?.unref()
      try {
        await this.run(d, d.executionId, receivedAt)
        await this.seen.set(
          d.executionId,
          { state: 'done', datagram: d, receivedAt },
          { expiresAt: Date.now() + this.opts.dedupTtlMs },
        )
      } catch (err) {
        // Left as `received`: the next start tries it again.
        this.failures++
        this.log.error({ err, executionId: d.executionId }, 'task event could not be handled')
      } finally {
        clearInterval(renew)
      }
    })
    this.pump()
  }

  private pump(): void {
    while (!this.closed && this.active < this.opts.concurrency && this.queue.length > 0) {
      const job = this.queue.shift() as () => Promise<void>
      this.active++
      void job().finally(() => {
        this.active--
        this.pump()
        if (this.active === 0 && this.queue.length === 0) {
          for (const r of this.idle) r()
          this.idle.clear()
        }
      })
    }
  }
}
