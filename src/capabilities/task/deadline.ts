import { CapabilityError } from '../../core/errors.js'

/**
 * Cuts work that waits on Sense at `ms`: QRS calls have their own 30 s timeout and retries, which
 * together can take minutes; a caller hears about a hung QRS within this deadline instead.
 */
export async function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  signal: AbortSignal,
  onTimeout: () => void,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout()
      reject(
        new CapabilityError('SENSE_UNREACHABLE', `Qlik Sense did not answer within ${ms} ms`, {
          details: { timeoutMs: ms },
        }),
      )
    }, ms)
  })
  // Removed when the race ends: one request makes many deadline-bound calls on the same signal
  // (a task/start of 20 tasks), and listeners left behind pile up (MaxListenersExceededWarning).
  let onAbort: () => void = () => undefined
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason)
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
  })
  // The losing promises must not surface as unhandled rejections.
  work.catch(() => undefined)
  try {
    return await Promise.race([work, deadline, aborted])
  } finally {
    clearTimeout(timer)
    signal.removeEventListener('abort', onAbort)
  }
}
