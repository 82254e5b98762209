import type { Bus } from '../../core/bus.js'
import { actingFor, type Identity } from '../../core/identity.js'

export interface FollowUp {
  taskId: string
  started: boolean
  /** task/start's outcome for it: started, denied (allow-list), not-found, invalid or failed. */
  status: string
  /** The execution session id QRS answered with, when it started. */
  sessionId?: string
  error?: { code: string; message: string }
}

type StartItem = { status: string; by: string; taskId?: string; executionId?: string; reason?: string }

/** Long enough for task/start's own start phase (capabilities.task.startTimeoutMs, 15 s by default). */
const START_WAIT_MS = 60_000

/**
 * Starts a reload's follow-up tasks with one `task/start` request under the caller's identity, so the
 * allow-list, the caller's grants, the audit and the run events apply exactly as to any other start (Butler
 * started them fire-and-forget, past its own start filter). One result per task id, in the order given.
 */
export async function startFollowUps(bus: Bus, identity: Identity, taskIds: readonly string[]): Promise<FollowUp[]> {
  if (taskIds.length === 0) return []
  const env = await bus.request<{ items: StartItem[] }>(
    'task/start',
    { taskIds: [...taskIds] },
    { identity: actingFor(identity, identity.via, 'app/reload'), timeoutMs: START_WAIT_MS },
  )
  if (env.status === 'error') {
    const error = { code: env.error.code, message: env.error.message }
    return taskIds.map((taskId) => ({ taskId, started: false, status: 'failed', error }))
  }
  const items = env.data.items.filter((i) => i.by === 'taskId')
  return taskIds.map((taskId, n) => {
    const item = items[n]
    if (!item) return { taskId, started: false, status: 'failed', error: { code: 'INTERNAL', message: 'No outcome' } }
    if (item.status === 'started')
      return { taskId, started: true, status: 'started', ...(item.executionId ? { sessionId: item.executionId } : {}) }
    const error = (item as { error?: { code: string; message: string } }).error ?? {
      code: ERROR_OF[item.status] ?? 'INTERNAL',
      message: item.reason ?? `Task ${taskId}: ${item.status}`,
    }
    return { taskId, started: false, status: item.status, error }
  })
}

/** The error code a per-item outcome that carries none stands for. */
const ERROR_OF: Record<string, string> = { denied: 'FORBIDDEN', 'not-found': 'NOT_FOUND', invalid: 'VALIDATION_FAILED' }
