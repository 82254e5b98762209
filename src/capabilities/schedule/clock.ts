/**
 * Time as the scheduler sees it. Production uses the system clock; specs inject one they move by
 * hand, so daylight-saving nights and missed runs are tested in milliseconds.
 */
export interface Clock {
  now(): number
  /** Calls `fn` once, at or after the instant `at` (epoch ms); the result cancels it. */
  at(at: number, fn: () => void): () => void
}

// setTimeout fires at once for delays above 2^31-1 ms (about 24.8 days).
const MAX_DELAY_MS = 2_147_483_647

export const systemClock: Clock = {
  now: () => Date.now(),
  at(at, fn) {
    let timer: NodeJS.Timeout | undefined
    const arm = () => {
      const delay = at - Date.now()
      timer = setTimeout(delay <= 0 ? fn : arm, Math.max(0, Math.min(delay, MAX_DELAY_MS)))
      timer.unref()
    }
    arm()
    return () => clearTimeout(timer)
  },
}
