import { CapabilityError } from './errors.js'

interface Caller {
  active: number
  waiting: Array<() => void>
}

/**
 * How many requests may be in flight, over all and per caller. A caller over its share waits its
 * turn (flow control): its own requests slow down while everyone else's go on. BUSY answers only a
 * global overload, or a caller whose queue of waiting requests is full too.
 */
export class Admission {
  private total = 0
  private readonly callers = new Map<string, Caller>()
  private readonly idle: Array<() => void> = []

  constructor(
    private readonly maxInFlight: number,
    private readonly maxPerCaller: number | undefined,
    /** Requests one caller may have waiting beyond its share, as a multiple of the share. */
    private readonly queueFactor = 8,
  ) {}

  /** Resolves with a release function once a slot is free; throws BUSY when none can be had. */
  async admit(key: string): Promise<() => void> {
    if (this.total >= this.maxInFlight) {
      throw new CapabilityError('BUSY', `Too many requests in flight (${this.maxInFlight}); retry later`)
    }
    let caller = this.callers.get(key)
    if (!caller) {
      caller = { active: 0, waiting: [] }
      this.callers.set(key, caller)
    }
    this.total++
    if (this.maxPerCaller !== undefined && caller.active >= this.maxPerCaller) {
      if (caller.waiting.length >= this.maxPerCaller * this.queueFactor) {
        this.total--
        throw new CapabilityError(
          'BUSY',
          `Too many requests from this client (${this.maxPerCaller} in flight, ${caller.waiting.length} waiting); ` +
            `retry later`,
        )
      }
      const me = caller
      await new Promise<void>((resolve) => me.waiting.push(resolve))
    }
    caller.active++
    return this.releaser(key, caller)
  }

  inFlight(): number {
    return this.total
  }

  /** Resolves once nothing is in flight. */
  drained(): Promise<void> {
    return this.total === 0 ? Promise.resolve() : new Promise((resolve) => this.idle.push(resolve))
  }

  private releaser(key: string, caller: Caller): () => void {
    let released = false
    return () => {
      if (released) return
      released = true
      this.total--
      caller.active--
      const next = caller.waiting.shift()
      if (next) next()
      else if (caller.active === 0) this.callers.delete(key)
      if (this.total === 0) for (const fn of this.idle.splice(0)) fn()
    }
  }
}
