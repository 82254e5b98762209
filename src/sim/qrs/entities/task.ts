import type { SimModel } from '../../model/store.js'
import type { SimTask } from '../../model/types.js'
import type { UnconfirmedDetails } from '../../unconfirmed.js'
import { appCondensed } from './app.js'
import { auditFields, customPropertiesOf, tagsOf, type Json } from './common.js'
import { executionResultCondensed, neverRunResult } from './execution.js'

/** §1.10 b: `GET /qrs/task` (condensed) needs only these fields (`[QRA] ITaskCondensed`). */
export function taskCondensed(task: SimTask): Json {
  return {
    id: task.id,
    name: task.name,
    taskType: task.taskType,
    enabled: task.enabled,
    maxRetries: task.maxRetries,
    taskSessionTimeout: task.taskSessionTimeout,
    privileges: null,
  }
}

/** The `operational` member: lastExecutionResult (condensed) and nextExecution (§1.10 a). */
function operational(model: SimModel, task: SimTask, texts: UnconfirmedDetails['qrs']): Json {
  const last = model.lastResultOf(task) ?? neverRunResult(task)
  return {
    id: task.operationalId,
    lastExecutionResult: executionResultCondensed(last, texts),
    nextExecution: task.nextExecution,
    privileges: null,
  }
}

/**
 * Full task entity (§1.10 a), polymorphic by taskType (§1.10 b): reload and preload tasks carry `app`,
 * external program tasks `path`/`parameters`, user sync tasks `userDirectory`.
 */
export function taskFull(model: SimModel, task: SimTask, texts: UnconfirmedDetails['qrs']): Json {
  const json: Json = {
    id: task.id,
    ...auditFields(task),
    customProperties: customPropertiesOf(model, task.customProperties),
  }
  if (task.taskType === 0 || task.taskType === 3 || task.taskType === 4) {
    const app = task.appId ? model.apps.get(task.appId) : undefined
    json.app = app ? appCondensed(model, app) : null
  }
  json.isManuallyTriggered = task.isManuallyTriggered
  json.operational = operational(model, task, texts)
  json.name = task.name
  json.taskType = task.taskType
  json.enabled = task.enabled
  json.taskSessionTimeout = task.taskSessionTimeout
  json.maxRetries = task.maxRetries
  json.tags = tagsOf(model, task.tagIds)
  json.privileges = null
  json.schemaPath = texts.taskSchemaPath[task.taskType]
  if (task.taskType === 1) {
    json.path = task.path
    json.parameters = task.parameters
  }
  if (task.taskType === 2) {
    json.userDirectory = { id: task.userDirectory, name: task.userDirectory, privileges: null }
  }
  if (task.taskType === 0 || task.taskType === 4) {
    json.isPartialReload = task.isPartialReload
    json.timeToLive = task.timeToLive
    json.preloadNodes = task.preloadNodeIds.flatMap((id) => {
      const node = model.nodes.get(id)
      return node ? [{ id: node.id, name: node.name, hostName: node.hostName, privileges: null }] : []
    })
  }
  return json
}
