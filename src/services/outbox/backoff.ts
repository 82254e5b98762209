export interface BackoffPolicy {
  baseDelayMs: number
  maxDelayMs: number
}

/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 * retries from many failed deliveries spread out instead of hammering a receiver that just came back.
 * A receiver's own Retry-After is a floor, never shortened.
 */
export function nextDelayMs(
  attempt: number,
  policy: BackoffPolicy,
  retryAfterMs?: number,
  random = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1))
  const jittered = Math.round(ceiling / 2 + (random() * ceiling) / 2)
  return Math.max(jittered, retryAfterMs ?? 0)
}
