/**
 * Per-client flow control. Each message a client publishes is counted until sensebus is done with it
 * (for a request: admitted or answered). Once a client has more than `highWater` of them, Aedes is
 * not told that its next publish went through until the count is back at `lowWater`; Aedes reads a
 * client's socket only after its previous packets went through, so the flooder's further packets
 * wait in its own TCP buffers, and everybody else is served meanwhile.
 */
export class FlowControl {
  private readonly backlog = new Map<string, number>()
  private readonly waiting = new Map<string, Array<() => void>>()

  constructor(
    private readonly highWater: number,
    private readonly lowWater: number,
  ) {}

  /** One more message of this client's is waiting to be handled; call the result when it is. */
  take(clientId: string): () => void {
    this.backlog.set(clientId, (this.backlog.get(clientId) ?? 0) + 1)
    let done = false
    return () => {
      if (done) return
      done = true
      const left = (this.backlog.get(clientId) ?? 1) - 1
      if (left === 0) this.backlog.delete(clientId)
      else this.backlog.set(clientId, left)
      if (left <= this.lowWater) {
        const waiters = this.waiting.get(clientId)
        this.waiting.delete(clientId)
        for (const w of waiters ?? []) w()
      }
    }
  }

  /** Undefined when the client may go on; otherwise a promise that resolves once it may. */
  admit(clientId: string): Promise<void> | undefined {
    if ((this.backlog.get(clientId) ?? 0) <= this.highWater) return undefined
    return new Promise((resolve) => {
      const list = this.waiting.get(clientId) ?? []
      list.push(resolve)
      this.waiting.set(clientId, list)
    })
  }

  /** Clients held back right now, for metrics and tests. */
  heldCount(): number {
    return this.waiting.size
  }
}
