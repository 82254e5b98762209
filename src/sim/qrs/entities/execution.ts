import { EMPTY_GUID, NEVER, stableGuid } from '../../ids.js'
import type { SimModel } from '../../model/store.js'
import type { SimExecutionResult, SimExecutionSession, SimTask } from '../../model/types.js'
import type { UnconfirmedDetails } from '../../unconfirmed.js'
import { appCondensed } from './app.js'
import { auditFields, type Json } from './common.js'
import { taskCondensed } from './task.js'

function detailsOf(result: SimExecutionResult): Json[] {
  return result.details.map((d) => ({
    id: d.id,
    detailsType: d.detailsType,
    message: d.message,
    detailCreatedDate: d.detailCreatedDate,
    privileges: null,
  }))
}

/**
 * ExecutionResultCondensed: `operational.lastExecutionResult` (§1.10 a). It lacks taskID, executionID,
 * appID and executingNodeID (§1.10 c).
 */
export function executionResultCondensed(result: SimExecutionResult, texts: UnconfirmedDetails['qrs']): Json {
  return {
    id: result.id,
    executingNodeName: result.executingNodeName,
    status: result.status,
    startTime: result.startTime,
    stopTime: result.stopTime,
    duration: result.duration,
    fileReferenceID: result.fileReferenceId,
    scriptLogAvailable: result.scriptLogAvailable,
    details: detailsOf(result),
    scriptLogLocation: texts.scriptLogLocation,
    scriptLogSize: result.scriptLogSize,
    privileges: null,
  }
}

/** ExecutionResult (full), §1.10 c. */
export function executionResultFull(result: SimExecutionResult, texts: UnconfirmedDetails['qrs']): Json {
  return {
    id: result.id,
    ...auditFields(result),
    taskID: result.taskId,
    executionID: result.executionId,
    appID: result.appId ?? EMPTY_GUID,
    executingNodeID: result.executingNodeId,
    executingNodeName: result.executingNodeName,
    status: result.status,
    startTime: result.startTime,
    stopTime: result.stopTime,
    duration: result.duration,
    fileReferenceID: result.fileReferenceId,
    scriptLogAvailable: result.scriptLogAvailable,
    details: detailsOf(result),
    scriptLogLocation: texts.scriptLogLocation,
    scriptLogSize: result.scriptLogSize,
    privileges: null,
    schemaPath: 'ExecutionResult',
  }
}

/**
 * §1.5: a task that never ran still has an `operational.lastExecutionResult`: status 0, the 1753
 * sentinel for both times and the empty GUID as fileReferenceID.
 */
export function neverRunResult(task: SimTask): SimExecutionResult {
  return {
    id: stableGuid(`never-run:${task.id}`),
    createdDate: task.createdDate,
    modifiedDate: task.createdDate,
    modifiedByUserName: task.modifiedByUserName,
    taskId: task.id,
    executionId: EMPTY_GUID,
    appId: task.appId,
    executingNodeId: EMPTY_GUID,
    executingNodeName: '',
    status: 0,
    startTime: NEVER,
    stopTime: NEVER,
    duration: 0,
    fileReferenceId: EMPTY_GUID,
    scriptLogAvailable: false,
    scriptLogSize: 0,
    details: [],
  }
}

const SESSION_TASK_KEY = ['reloadTask', 'externalProgramTask', 'userSyncTask', 'reloadTask', 'reloadTask'] as const

/** ExecutionSession (§1.7; partly unconfirmed): the task under its type-specific key, app, latest result. */
export function executionSessionJson(
  model: SimModel,
  session: SimExecutionSession,
  texts: UnconfirmedDetails['qrs'],
): Json {
  const task = model.tasks.get(session.taskId)
  const app = task?.appId ? model.apps.get(task.appId) : undefined
  const lastId = session.resultIds.at(-1)
  const result = lastId ? model.executionResults.get(lastId) : undefined
  const json: Json = { id: session.id, ...auditFields(session) }
  if (task) json[SESSION_TASK_KEY[task.taskType]] = taskCondensed(task)
  json.app = app ? appCondensed(model, app) : null
  json.executionResult = result ? executionResultCondensed(result, texts) : null
  json.taskSessionTimeout = task?.taskSessionTimeout ?? 1440
  json.privileges = null
  json.schemaPath = 'ExecutionSession'
  return json
}
