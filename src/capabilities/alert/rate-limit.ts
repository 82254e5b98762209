import type { Collection } from '../../core/store.js'
import { withStoreLock } from '../../services/store/lock.js'

interface Window {
  endsAt: number
  /** Alerts held back in the current window; reported in the next one that goes out. */
  suppressed: number
  /** The alert that opened the window: a replay of it (after a restart) is let through again. */
  alertId: string
}

export type RateDecision = { send: true; suppressedBefore: number } | { send: false; suppressed: number }

/**
 * One delivery per key (task, destination, recipient) per window, remembered in the store so a restart
 * does not reset it. Held-back alerts are counted and reported by the next one that goes out
 * ("3 more failures of this task were suppressed").
 */
export class RateLimiter {
  private readonly chains = new Map<string, Promise<unknown>>()

  constructor(
    private readonly windows: Collection<Window>,
    /** How long a quiet window's count is remembered after it ends. */
    private readonly keepMs = 7 * 24 * 3600_000,
    /** Shared store: a short lock per key, so instances decide on one key one after another too. */
    private readonly locks?: Collection<string>,
  ) {}

  decide(key: string, alertId: string, windowMs: number, now = Date.now()): Promise<RateDecision> {
    // Decisions on one key run one after the other, so two alerts in the same instant cannot both pass.
    const previous = this.chains.get(key) ?? Promise.resolve()
    const run = previous.then(() =>
      this.locks
        ? withStoreLock(this.locks, key, () => this.decideNow(key, alertId, windowMs, now))
        : this.decideNow(key, alertId, windowMs, now),
    )
    const settled = run.catch(() => undefined)
    this.chains.set(key, settled)
    void settled.then(() => {
      if (this.chains.get(key) === settled) this.chains.delete(key)
    })
    return run
  }

  private async decideNow(key: string, alertId: string, windowMs: number, now: number): Promise<RateDecision> {
    if (windowMs <= 0) return { send: true, suppressedBefore: 0 }
    const current = (await this.windows.get(key))?.value
    if (current && current.alertId === alertId) return { send: true, suppressedBefore: 0 }
    if (current && now < current.endsAt) {
      const next = { ...current, suppressed: current.suppressed + 1 }
      await this.windows.set(key, next, { expiresAt: current.endsAt + this.keepMs })
      return { send: false, suppressed: next.suppressed }
    }
    const endsAt = now + windowMs
    await this.windows.set(key, { endsAt, suppressed: 0, alertId }, { expiresAt: endsAt + this.keepMs })
    return { send: true, suppressedBefore: current?.suppressed ?? 0 }
  }
}
