import type { Level } from 'level'

export type RawOp = { type: 'put'; key: string; value: string } | { type: 'del'; key: string }

interface Waiter {
  resolve(): void
  reject(err: unknown): void
}

/**
 * Group commit: one LevelDB batch (one fsync) is on its way to disk at a time, and every write that
 * arrives meanwhile joins the next one, which leaves as soon as the disk is free. Each caller's
 * promise resolves only once the batch holding its ops is on disk, so an acknowledged write is still
 * durable, but a hundred concurrent writers cost two flushes instead of a hundred. Alone, a write
 * waits one turn of the event loop (so the writes of that turn share its batch) and goes.
 */
export class GroupCommit {
  private ops: RawOp[] = []
  private waiters: Waiter[] = []
  /** The latest pending op per key, so reads see writes that are not on disk yet. */
  private readonly pending = new Map<string, RawOp>()
  private scheduled = false
  private writing: Promise<void> | undefined

  constructor(
    private readonly db: Level<string, string>,
    private readonly sync: boolean,
  ) {}

  write(ops: RawOp[]): Promise<void> {
    // Nothing to write: settle with what came before, as a write would.
    if (ops.length === 0) return this.settled()
    for (const op of ops) {
      this.ops.push(op)
      this.pending.set(op.key, op)
    }
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }))
    // While a batch is being written, this one fills up and leaves when that one lands.
    if (!this.writing && !this.scheduled) {
      this.scheduled = true
      setImmediate(() => {
        this.scheduled = false
        if (!this.writing) this.flush()
      })
    }
    return done
  }

  /** The value a key will have once pending writes land: a put's value, null for a delete. */
  peek(key: string): string | null | undefined {
    const op = this.pending.get(key)
    if (!op) return undefined
    return op.type === 'put' ? op.value : null
  }

  /** Resolves when everything written so far is on disk (or failed: the writers hear of that). */
  settled(): Promise<void> {
    if (this.ops.length > 0) {
      return new Promise<void>((resolve) => this.waiters.push({ resolve, reject: () => resolve() }))
    }
    return this.writing ?? Promise.resolve()
  }

  private flush(): void {
    if (this.ops.length === 0) return
    const ops = this.ops
    const waiters = this.waiters
    this.ops = []
    this.waiters = []
    // Callbacks run on later turns, so `writing` is set before the batch's end can clear it.
    this.writing = Promise.resolve()
      .then(() => this.db.batch(ops, { sync: this.sync }))
      .then(
        () => {
          for (const w of waiters) w.resolve()
        },
        (err: unknown) => {
          for (const w of waiters) w.reject(err)
        },
      )
      .finally(() => {
        for (const op of ops) if (this.pending.get(op.key) === op) this.pending.delete(op.key)
        this.writing = undefined
        // What queued up during this batch goes now, as one batch.
        this.flush()
      })
  }
}
