/**
 * Counts client packets between the broker's acceptance (authorizePublish) and their routing (the
 * `published` hook): a QoS 1 request is acknowledged in between. At shutdown, once reads stop,
 * waiting for this to reach zero means every acknowledged request has reached its subscribers.
 */
export class RoutingGauge {
  private pending = 0
  private waiters: Array<() => void> = []

  enter(): void {
    this.pending++
  }

  leave(): void {
    if (this.pending > 0) this.pending--
    if (this.pending === 0) for (const wake of this.waiters.splice(0)) wake()
  }

  /** Resolves when nothing is in between, or after `maxMs` (a packet whose publish failed never leaves). */
  idle(maxMs: number): Promise<void> {
    if (this.pending === 0) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, maxMs)
      this.waiters.push(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }
}
