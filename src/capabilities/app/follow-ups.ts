import type { QrsClient } from '../../sense/qrs/index.js'

export interface FollowUp {
  taskId: string
  started: boolean
  /** The execution session id QRS answered with, when it started. */
  sessionId?: string
  error?: { code: string; message: string }
}

/**
 * Starts the follow-up tasks of a reload through QRS, one by one, and reports each (Butler starts
 * them fire-and-forget and reports nothing). Kept small on purpose: task/start will own this later.
 */
export async function startFollowUps(qrs: QrsClient, taskIds: readonly string[]): Promise<FollowUp[]> {
  const results: FollowUp[] = []
  for (const taskId of taskIds) {
    try {
      const sessionId = await qrs.startTaskSynchronous(taskId)
      results.push({ taskId, started: true, sessionId })
    } catch (err) {
      const e = err as { code?: string; message?: string }
      results.push({ taskId, started: false, error: { code: e.code ?? 'INTERNAL', message: e.message ?? String(err) } })
    }
  }
  return results
}
