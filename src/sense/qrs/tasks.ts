import { unexpectedResponse } from '../errors.js'
import {
  assertGuid,
  eqGuid,
  executionResultFilter,
  taskFilter,
  type ExecutionResultQuery,
  type TaskQuery,
} from './filter.js'
import { getEntity, getList, getOneByFilter, valueOf } from './read.js'
import type { QrsTransport } from './transport.js'
import type { ExecutionResult, ExecutionSession, ReloadTask, Task, TaskCondensed } from './types.js'

/** Task reads, starts and execution tracking (QLIK-PROTOCOLS §1.6 Q1-Q11, Q18; §1.7). */
export interface QrsTaskOperations {
  /** Q2 `task/full?filter=id eq <id>`: any task type; NOT_FOUND when no task has that id. */
  getTask(id: string): Promise<Task>
  /** `task/full?filter=…` by id, name, tag and/or custom property; several criteria combine with `and`. */
  findTasks(query: TaskQuery): Promise<Task[]>
  /** Q1 `task?filter=id eq <id>`: Butler's existence check. */
  taskExists(id: string): Promise<boolean>
  /** Q9 `reloadtask/{id}`: with `operational.lastExecutionResult`. */
  getReloadTask(id: string): Promise<ReloadTask>
  /** Q10 `externalprogramtask/{id}`. */
  getExternalProgramTask(id: string): Promise<Task>
  /** Q11 `usersynctask/{id}`. */
  getUserSyncTask(id: string): Promise<Task>
  /** Q18 `POST task/{id}/start`: 204 or it failed; unknown id → SENSE_TASK_NOT_FOUND. Never retried. */
  startTask(id: string): Promise<void>
  /** `POST task/{id}/start/synchronous` → the execution session id; EMPTY_GUID means it did not start. */
  startTaskSynchronous(id: string): Promise<string>
  /** `POST task/start?name=…` → 204. */
  startTaskByName(name: string): Promise<void>
  /** `POST task/start/synchronous?name=…` → session id (EMPTY_GUID: did not start). */
  startTaskByNameSynchronous(name: string): Promise<string>
  /** `POST task/start/many` with the ids as a JSON array. */
  startTasks(ids: string[]): Promise<void>
  /** `executionsession/{id}`: the running session, or null once it finished (QRS deletes it: 404). */
  getExecutionSession(sessionId: string): Promise<ExecutionSession | null>
  /** `executionresult/full?filter=ExecutionId eq … and TaskId eq …`: one result per attempt. */
  getExecutionResults(query: ExecutionResultQuery): Promise<ExecutionResult[]>
  /** `executionresult/{id}`. */
  getExecutionResult(id: string): Promise<ExecutionResult>
}

export function taskOperations(qrs: QrsTransport): QrsTaskOperations {
  async function startAsync(path: string, query: Record<string, string> | undefined, body: unknown): Promise<void> {
    await qrs.send({ method: 'POST', path, query, body, expect: 'start', notFoundCode: 'SENSE_TASK_NOT_FOUND' })
  }

  async function startSync(path: string, query?: Record<string, string>): Promise<string> {
    const { data, ctx, status } = await qrs.sendJson({
      method: 'POST',
      path,
      query,
      expect: 'startSynchronous',
      notFoundCode: 'SENSE_TASK_NOT_FOUND',
    })
    return valueOf(data, () => unexpectedResponse(ctx, status, 'expected {"value": "<session id>"}'))
  }

  return {
    getTask: async (id) => getOneByFilter<Task>(qrs, 'task/full', eqGuid('id', id), `Task ${id}`),
    findTasks: async (query) => getList<Task>(qrs, 'task/full', taskFilter(query)),
    taskExists: async (id) => (await getList<TaskCondensed>(qrs, 'task', eqGuid('id', id))).length > 0,
    getReloadTask: async (id) => getEntity<ReloadTask>(qrs, `reloadtask/${assertGuid(id)}`),
    getExternalProgramTask: async (id) => getEntity<Task>(qrs, `externalprogramtask/${assertGuid(id)}`),
    getUserSyncTask: async (id) => getEntity<Task>(qrs, `usersynctask/${assertGuid(id)}`),
    // Butler sends an empty JSON object as the body (QLIK-PROTOCOLS §1.6 Q18).
    startTask: async (id) => startAsync(`task/${assertGuid(id)}/start`, undefined, {}),
    startTaskSynchronous: async (id) => startSync(`task/${assertGuid(id)}/start/synchronous`),
    startTaskByName: async (name) => startAsync('task/start', { name }, undefined),
    startTaskByNameSynchronous: async (name) => startSync('task/start/synchronous', { name }),
    startTasks: async (ids) => {
      const body = ids.map((id) => assertGuid(id))
      await qrs.send({
        method: 'POST',
        path: 'task/start/many',
        body,
        expect: 'startMany',
        notFoundCode: 'SENSE_TASK_NOT_FOUND',
      })
    },
    getExecutionSession: async (sessionId) => {
      try {
        return await getEntity<ExecutionSession>(qrs, `executionsession/${assertGuid(sessionId)}`)
      } catch (err) {
        // QLIK-PROTOCOLS §1.7: the session row is deleted when the run ends, so 404 means "finished".
        if ((err as { code?: string }).code === 'NOT_FOUND') return null
        throw err
      }
    },
    getExecutionResults: async (query) =>
      getList<ExecutionResult>(qrs, 'executionresult/full', executionResultFilter(query)),
    getExecutionResult: async (id) => getEntity<ExecutionResult>(qrs, `executionresult/${assertGuid(id)}`),
  }
}
