import { CapabilityError } from '../../core/errors.js'
import type { ExecutionResult, Task } from '../../sense/qrs/index.js'
import { taskCapability } from './context.js'
import { executionRecord, latestAttempt, realDate, statusName, TASK_TYPES } from './records.js'
import * as s from './schema.js'

export const taskStatus = taskCapability({
  name: 'task/status',
  roles: ['loadscript', 'observer'],
  summary: "A run's status: a task's last execution, or one execution by its id",
  request: s.statusRequest,
  result: s.statusResult,
  timeoutMs: 30_000,
  example: {
    request: { taskId: 'dec2a02a-1680-44ef-8dc2-e2bfb180af87' },
    result: {
      execution: {
        taskId: 'dec2a02a-1680-44ef-8dc2-e2bfb180af87',
        taskName: 'Manually triggered reload of Test failing reloads 2',
        executionId: '14a81bf5-f81c-4047-b1a1-193b0920de28',
        executionResultId: 'b7c3c0d4-5d8e-4c59-9f51-2a3b0e7f9a10',
        status: 'FinishedFail',
        statusCode: 8,
        succeeded: false,
        startedAt: '2021-02-16T08:24:55.346Z',
        endedAt: '2021-02-16T08:24:59.052Z',
        durationMs: 3706,
        node: 'pro2-win1',
      },
    },
  },
  async handle(req, { services }) {
    const qrs = services.sense.qrs
    if (req.executionId !== undefined) {
      const results = await qrs.getExecutionResults({ executionId: req.executionId })
      const latest = latestAttempt(results)
      if (!latest) throw new CapabilityError('NOT_FOUND', `No execution ${req.executionId}`)
      const task = await qrs.getTask(latest.taskID)
      return {
        execution: executionRecord({ taskId: task.id, taskName: task.name, executionId: latest.executionID }, latest),
      }
    }
    const task = await qrs.getTask(req.taskId as string)
    const last = task.operational?.lastExecutionResult
    if (!last || realDate(last.startTime) === null) return { execution: null }
    // The condensed result on the task lacks the execution id; the full one has it.
    const full: ExecutionResult = await qrs.getExecutionResult(last.id)
    return { execution: executionRecord({ taskId: task.id, taskName: task.name, executionId: full.executionID }, full) }
  },
})

export const taskList = taskCapability({
  name: 'task/list',
  roles: ['loadscript', 'observer'],
  summary: 'Tasks of every type, filtered by name, tag and/or custom property, with their last run',
  request: s.listRequest,
  result: s.listResult,
  timeoutMs: 30_000,
  example: {
    request: { tag: 'Nightly' },
    result: {
      tasks: [
        {
          id: '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a',
          name: 'Reload Sales ETL',
          taskType: 'Reload',
          enabled: true,
          appId: 'c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f',
          appName: 'Sales ETL (QVD generator)',
          tags: ['Nightly', 'Sales'],
          customProperties: [{ name: 'Butler_FailedTaskAlert', value: 'Failed reloads' }],
          lastExecution: null,
        },
      ],
    },
  },
  async handle(req, { services }) {
    const tasks = await services.sense.qrs.findTasks({
      ...(req.name !== undefined ? { name: req.name } : {}),
      ...(req.tag !== undefined ? { tag: req.tag } : {}),
      ...(req.customProperty !== undefined ? { customProperty: req.customProperty } : {}),
    })
    return { tasks: tasks.map(summary).sort((a, b) => a.name.localeCompare(b.name)) }
  },
})

function summary(task: Task) {
  const last = task.operational?.lastExecutionResult
  const ran = last && realDate(last.startTime) !== null
  return {
    id: task.id,
    name: task.name,
    taskType: TASK_TYPES[task.taskType ?? 0] ?? 'Reload',
    enabled: task.enabled !== false,
    appId: task.app?.id ?? null,
    appName: task.app?.name ?? null,
    tags: (task.tags ?? []).map((t) => t.name),
    customProperties: (task.customProperties ?? []).map((cp) => ({ name: cp.definition.name, value: cp.value })),
    lastExecution: ran
      ? {
          status: statusName(last.status),
          startedAt: realDate(last.startTime),
          endedAt: realDate(last.stopTime),
          durationMs: Math.round(last.duration),
        }
      : null,
  }
}
