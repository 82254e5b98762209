import type { Clock } from '../../src/capabilities/schedule/clock.js'

/** A clock the spec moves by hand; due timers fire in order, each at its own instant. */
export class ManualClock implements Clock {
  private timers = new Set<{ at: number; fn: () => void }>()

  constructor(private t: number) {}

  now(): number {
    return this.t
  }

  at(at: number, fn: () => void): () => void {
    const timer = { at, fn }
    this.timers.add(timer)
    return () => this.timers.delete(timer)
  }

  async advanceTo(to: string | number): Promise<void> {
    const target = typeof to === 'string' ? Date.parse(to) : to
    for (;;) {
      const due = [...this.timers].filter((x) => x.at <= target).sort((a, b) => a.at - b.at)[0]
      if (!due) break
      this.timers.delete(due)
      this.t = Math.max(this.t, due.at)
      due.fn()
      await new Promise((r) => setImmediate(r))
    }
    this.t = Math.max(this.t, target)
  }
}
