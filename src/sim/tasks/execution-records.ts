import { EMPTY_GUID, NEVER, newGuid } from '../ids.js'
import type { SimModel } from '../model/store.js'
import type {
  SimExecutionDetail,
  SimExecutionResult,
  SimExecutionSession,
  SimNode,
  SimTask,
  TaskStatus,
} from '../model/types.js'

/** Small mutators for execution sessions and results, so the state machine reads as a sequence of steps. */

export function createSession(model: SimModel, task: SimTask, user: string, now: string): SimExecutionSession {
  const session: SimExecutionSession = {
    id: newGuid(),
    createdDate: now,
    modifiedDate: now,
    modifiedByUserName: user,
    taskId: task.id,
    resultIds: [],
    user,
  }
  model.executionSessions.set(session)
  return session
}

/** A new attempt (§1.7: one ExecutionResult per attempt), already the task's lastExecutionResult. */
export function createResult(
  model: SimModel,
  session: SimExecutionSession,
  task: SimTask,
  node: SimNode,
  now: string,
): SimExecutionResult {
  const result: SimExecutionResult = {
    id: newGuid(),
    createdDate: now,
    modifiedDate: now,
    modifiedByUserName: 'INTERNAL\\sa_scheduler',
    taskId: task.id,
    executionId: session.id,
    appId: task.appId,
    executingNodeId: node.id,
    executingNodeName: node.hostName,
    status: 1,
    startTime: now,
    stopTime: NEVER,
    duration: 0,
    fileReferenceId: EMPTY_GUID,
    scriptLogAvailable: false,
    scriptLogSize: 0,
    details: [],
  }
  model.executionResults.set(result)
  session.resultIds.push(result.id)
  task.lastExecutionResultId = result.id
  return result
}

export function addDetail(
  result: SimExecutionResult,
  message: string,
  now: string,
  detailsType: SimExecutionDetail['detailsType'] = 2,
): void {
  result.details.push({ id: newGuid(), detailsType, message, detailCreatedDate: now })
  result.modifiedDate = now
}

export function setStatus(
  result: SimExecutionResult,
  status: TaskStatus,
  message: string,
  now: string,
  detailsType: SimExecutionDetail['detailsType'] = 2,
): void {
  result.status = status
  addDetail(result, message, now, detailsType)
}

/** Final fields of §3.7 step 1: status, stopTime, duration, and the final detail line LAST. */
export function finishResult(
  result: SimExecutionResult,
  status: TaskStatus,
  message: string,
  now: string,
  detailsType: SimExecutionDetail['detailsType'] = 2,
): void {
  result.stopTime = now
  result.duration = Math.max(0, Date.parse(now) - Date.parse(result.startTime))
  result.finishedAtMs = Date.parse(now)
  setStatus(result, status, message, now, detailsType)
}

/** Stores the script log on the result (§4.6: scriptLogSize is the byte length). */
export function attachScriptLog(result: SimExecutionResult, log: string): void {
  result.scriptLog = log
  result.scriptLogSize = Buffer.byteLength(log, 'utf8')
  result.scriptLogAvailable = true
}

/** `DIR\user` → the two parts the script log header prints. */
export function splitUser(user: string): { directory: string; userId: string } {
  const at = user.indexOf('\\')
  return at < 0 ? { directory: 'INTERNAL', userId: user } : { directory: user.slice(0, at), userId: user.slice(at + 1) }
}
