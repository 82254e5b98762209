import { defineModule } from '../../core/capability.js'
import { allowList, type AllowList } from './allow-list.js'
import type { TaskState } from './context.js'
import { taskList, taskStatus } from './read.js'
import { configSchema, eventSchema, executionRecord, type TaskConfig } from './schema.js'
import { taskStart } from './start.js'
import { listenOnStartTopic } from './start-topic.js'
import { ExecutionWatcher } from './watcher.js'

const exampleRun = {
  taskId: 'dec2a02a-1680-44ef-8dc2-e2bfb180af87',
  taskName: 'Manually triggered reload of Test failing reloads 2',
  executionId: '14a81bf5-f81c-4047-b1a1-193b0920de28',
  executionResultId: 'b7c3c0d4-5d8e-4c59-9f51-2a3b0e7f9a10',
  status: 'FinishedSuccess',
  statusCode: 7,
  succeeded: true,
  startedAt: '2026-11-28T03:00:00.000Z',
  endedAt: '2026-11-28T03:00:42.000Z',
  durationMs: 42000,
  node: 'pro2-win1',
}

export default defineModule<TaskState, TaskConfig>({
  area: 'task',
  summary: 'Start Qlik Sense tasks (by id, name, tag, custom property) and follow their runs; task status and list',
  configSchema,
  needs: ['sense', 'store'],
  async setup({ config, services, bus, topics, log }) {
    const watcher = new ExecutionWatcher({ qrs: () => services.sense.qrs, bus, topics, log, config })
    const lists = new WeakMap<TaskConfig, AllowList>()
    const state: TaskState = {
      watcher,
      allow: (c) => {
        let list = lists.get(c)
        if (!list) lists.set(c, (list = allowList(c.allow)))
        return list
      },
    }
    if (config.startTopic.enable) state.stopStartTopic = await listenOnStartTopic(bus, config.startTopic, log)
    return state
  },
  async teardown(state) {
    await state.stopStartTopic?.()
    state.watcher.stop()
  },
  capabilities: [taskStart, taskStatus, taskList],
  publishes: [
    {
      topic: 'event/task/started',
      kind: 'event',
      summary: 'sensebus started a task run (any door); data is the run with its execution id',
      schema: eventSchema,
      example: { ...exampleRun, status: 'Triggered', statusCode: 1, succeeded: null, endedAt: null, durationMs: null },
    },
    {
      topic: 'event/task/finished',
      kind: 'event',
      summary: 'A run sensebus started ended successfully',
      schema: eventSchema,
      example: exampleRun,
    },
    {
      topic: 'event/task/failed',
      kind: 'event',
      summary: 'A run sensebus started failed, was aborted or skipped; scriptLogTail has the end of its log',
      schema: eventSchema,
      example: {
        ...exampleRun,
        status: 'FinishedFail',
        statusCode: 8,
        succeeded: false,
        scriptLogTail: ['Execution Failed', 'Execution finished.'],
      },
    },
    {
      topic: 'state/task/{taskId}',
      kind: 'state',
      summary: "A task's last run that sensebus started or followed (retained)",
      schema: executionRecord,
      example: exampleRun,
    },
  ],
})
