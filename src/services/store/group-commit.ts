import type { Level } from 'level'

export type RawOp = { type: 'put'; key: string; value: string } | { type: 'del'; key: string }

/**
 * Group commit: writes that arrive in the same turn of the event loop share one LevelDB batch and
 * one fsync, and every caller's promise resolves only once that batch is on disk. Many concurrent
 * writers then cost one disk flush instead of one each, and an acknowledged write is still durable.
 */
export class GroupCommit {
  private ops: RawOp[] = []
  private waiters: Array<{ resolve(): void; reject(err: unknown): void }> = []
  /** The latest pending op per key, so reads see writes that are not on disk yet. */
  private readonly pending = new Map<string, RawOp>()
  private scheduled = false
  private inFlight: Promise<void> = Promise.resolve()

  constructor(
    private readonly db: Level<string, string>,
    private readonly sync: boolean,
    private readonly maxOps = 10_000,
  ) {}

  write(ops: RawOp[]): Promise<void> {
    // Nothing to write would never be flushed (flush skips an empty batch): settle with what came before.
    if (ops.length === 0) return this.inFlight
    for (const op of ops) {
      this.ops.push(op)
      this.pending.set(op.key, op)
    }
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }))
    if (this.ops.length >= this.maxOps) this.flush()
    else if (!this.scheduled) {
      this.scheduled = true
      setImmediate(() => this.flush())
    }
    return done
  }

  /** The value a key will have once pending writes land: a put's value, null for a delete. */
  peek(key: string): string | null | undefined {
    const op = this.pending.get(key)
    if (!op) return undefined
    return op.type === 'put' ? op.value : null
  }

  /** Resolves when everything written so far is on disk. */
  async settled(): Promise<void> {
    if (this.ops.length > 0) this.flush()
    await this.inFlight
  }

  private flush(): void {
    this.scheduled = false
    if (this.ops.length === 0) return
    const ops = this.ops
    const waiters = this.waiters
    this.ops = []
    this.waiters = []
    // Batches go to disk one after another, so a later write never lands before an earlier one.
    this.inFlight = this.inFlight.then(async () => {
      try {
        await this.db.batch(ops, { sync: this.sync })
        for (const w of waiters) w.resolve()
      } catch (err) {
        for (const w of waiters) w.reject(err)
      } finally {
        for (const op of ops) if (this.pending.get(op.key) === op) this.pending.delete(op.key)
      }
    })
  }
}
