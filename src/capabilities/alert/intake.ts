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

  constructor(
    private readonly seen: Collection<Received>,
    private readonly opts: { dedupTtlMs: number; concurrency: number },
    private readonly log: Logger,
    private readonly run: (d: TaskDatagram, alertId: string, receivedAt: string) => Promise<unknown>,
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
    this.schedule(d, receivedAt)
    return 'accepted'
  }

  async recover(): Promise<number> {
    const open = (await this.seen.list()).filter((e) => e.value.state === 'received')
    for (const e of open) this.schedule(e.value.datagram, e.value.receivedAt)
    if (open.length) this.log.info({ count: open.length }, 'resuming task events received before a restart')
    return open.length
  }

  /** Waits for the work under way (and queued) to finish. */
  async drain(): Promise<void> {
    if (this.active === 0 && this.queue.length === 0) return
    await new Promise<void>((resolve) => this.idle.add(resolve))
  }

  close(): void {
    this.closed = true
    this.queue.length = 0
  }

  private schedule(d: TaskDatagram, receivedAt: string): void {
    this.queue.push(async () => {
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
