import type { EngineReloadProgress } from './backend.js'

/** ProgressData as GetProgress returns it (QLIK-PROTOCOLS §2.4, fields per the engine model). */
export interface ProgressData {
  qStarted: boolean
  qFinished: boolean
  qCompleted: number
  qTotal: number
  qKB: number
  qMillisecs: number
  qUserInteractionWanted: boolean
  qPersistentProgress: string
  qTransientProgress: string
  qErrorData: NonNullable<EngineReloadProgress['error']>[]
  qPersistentProgressMessages: unknown[]
  qTransientProgressMessage: { qMessageCode: number; qMessageParameters: string[] }
}

/**
 * One in-flight or finished reload, keyed by the JSON-RPC id of its DoReload(Ex) request.
 * `qPersistentProgress` is handed out incrementally: each GetProgress returns the lines added
 * since the previous read, which is how clients print a running log (unconfirmed, kept here).
 */
class ReloadProgress {
  private readonly startedAt = Date.now()
  private finishedAt: number | undefined
  private unread: string[] = []
  private transient = ''
  private readonly errors: ProgressData['qErrorData'] = []

  apply(step: EngineReloadProgress): void {
    if (step.persistent !== undefined) this.unread.push(step.persistent)
    if (step.transient !== undefined) this.transient = step.transient
    if (step.error !== undefined) this.errors.push(step.error)
  }

  finish(): void {
    this.finishedAt ??= Date.now()
    this.transient = ''
  }

  get finished(): boolean {
    return this.finishedAt !== undefined
  }

  read(): ProgressData {
    const persistent = this.unread.map((line) => `${line}\n`).join('')
    this.unread = []
    return {
      ...emptyProgress(),
      qStarted: true,
      qFinished: this.finished,
      qMillisecs: (this.finishedAt ?? Date.now()) - this.startedAt,
      qPersistentProgress: persistent,
      qTransientProgress: this.transient,
      qErrorData: [...this.errors],
    }
  }
}

export function emptyProgress(): ProgressData {
  return {
    qStarted: false,
    qFinished: false,
    qCompleted: 0,
    qTotal: 0,
    qKB: 0,
    qMillisecs: 0,
    qUserInteractionWanted: false,
    qPersistentProgress: '',
    qTransientProgress: '',
    qErrorData: [],
    qPersistentProgressMessages: [],
    qTransientProgressMessage: { qMessageCode: 0, qMessageParameters: [] },
  }
}

/** The reloads of one session. GetProgress(0) folds all of them together (§2.4: 0 = all). */
export class ProgressBook {
  private readonly byRequest = new Map<string, ReloadProgress>()

  begin(requestId: number | string | null): ReloadProgress {
    const progress = new ReloadProgress()
    this.byRequest.set(String(requestId), progress)
    return progress
  }

  read(requestId: number): ProgressData {
    if (requestId !== 0) return this.byRequest.get(String(requestId))?.read() ?? emptyProgress()
    const all = [...this.byRequest.values()]
    if (all.length === 0) return emptyProgress()
    return all.map((p) => p.read()).reduce(merge)
  }
}

function merge(a: ProgressData, b: ProgressData): ProgressData {
  return {
    ...a,
    qStarted: a.qStarted || b.qStarted,
    qFinished: a.qFinished && b.qFinished,
    qMillisecs: Math.max(a.qMillisecs, b.qMillisecs),
    qPersistentProgress: a.qPersistentProgress + b.qPersistentProgress,
    qTransientProgress: b.qTransientProgress || a.qTransientProgress,
    qErrorData: [...a.qErrorData, ...b.qErrorData],
  }
}

export type { ReloadProgress }
