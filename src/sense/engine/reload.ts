import { ENGINE_DEFAULTS } from './options.js'
import type { QixDoc, QixProgressData } from './qix.js'
import type { EngineSession } from './session.js'

export interface ReloadOptions {
  /** qMode: 0 default, 1 ABEND, 2 ignore errors (QLIK-PROTOCOLS §2.4). */
  mode?: number
  partial?: boolean
  /** Called after every GetProgress poll with the running totals. */
  onProgress?: (progress: ReloadProgress) => void
  /** GetProgress interval; default 500 ms. */
  pollMs?: number
  /** Aborting it sends CancelReload; the reload then ends with success false (see `cancelled`). */
  signal?: AbortSignal
  /** Called once the app is open, before DoReload (Butler answers its HTTP caller at this point). */
  onOpened?: () => void
}

export interface ReloadProgress {
  finished: boolean
  elapsedMs: number
  /** Every persistent line so far (the engine hands them out incrementally). */
  log: string
  /** The current transient line, e.g. `Lines fetched: 120,000`. */
  transient: string
  errors: { message: string; line?: string; code?: number }[]
}

export interface ReloadOutcome {
  appId: string
  success: boolean
  /** DoSave runs only after a successful reload (§2.5.1). */
  saved: boolean
  /** The signal fired and the engine was told to CancelReload. */
  cancelled: boolean
  progress: ReloadProgress
}

/**
 * DoReload on the doc while polling GetProgress on the global with the DoReload's request id
 * (§2.4), then DoSave when the reload succeeded. The poll shares the socket: the engine answers
 * by id, so it is not blocked behind the reload (§2.3.2).
 */
export async function runReload(
  s: EngineSession,
  doc: QixDoc,
  appId: string,
  opts: ReloadOptions,
  reloadTimeoutMs: number,
): Promise<ReloadOutcome> {
  const progress: ReloadProgress = { finished: false, elapsedMs: 0, log: '', transient: '', errors: [] }
  opts.signal?.throwIfAborted()
  opts.onOpened?.()
  const reloading = doc.doReload(opts.mode ?? 0, opts.partial ?? false)
  let cancelled = false
  const cancel = () => {
    cancelled = true
    // The DoReload answers false once the engine stopped; its own timeout bounds the wait.
    s.call('CancelReload', s.global.cancelReload()).catch(() => undefined)
  }
  opts.signal?.addEventListener('abort', cancel, { once: true })
  const requestId = reloading.requestId ?? 0
  let done = false
  const result = s.call('DoReload', reloading, reloadTimeoutMs).finally(() => {
    done = true
  })
  const poll = async (): Promise<void> => {
    const data = await s.call('GetProgress', s.global.getProgress(requestId))
    fold(progress, data)
    opts.onProgress?.({ ...progress, errors: [...progress.errors] })
  }
  const pollMs = opts.pollMs ?? ENGINE_DEFAULTS.progressPollMs
  const polling = (async () => {
    while (!done) {
      await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, pollMs))])
      // A failed poll is not a failed reload; the final poll below reports what it can.
      if (!done) await poll().catch(() => undefined)
    }
  })()
  const success = await result.finally(() => opts.signal?.removeEventListener('abort', cancel))
  await polling
  await poll().catch(() => undefined)
  progress.finished = true
  if (success !== true || cancelled) return { appId, success: false, saved: false, cancelled, progress }
  await s.call('DoSave', doc.doSave())
  return { appId, success: true, saved: true, cancelled, progress }
}

function fold(progress: ReloadProgress, data: QixProgressData): void {
  progress.finished = data.qFinished
  progress.elapsedMs = data.qMillisecs
  progress.log += data.qPersistentProgress ?? ''
  progress.transient = data.qTransientProgress ?? ''
  for (const e of data.qErrorData ?? []) {
    const error: ReloadProgress['errors'][number] = { message: e.qErrorString }
    if (e.qLine !== undefined) error.line = e.qLine
    if (e.qErrorDataCode !== undefined) error.code = e.qErrorDataCode
    if (!progress.errors.some((known) => known.message === error.message && known.line === error.line))
      progress.errors.push(error)
  }
}
