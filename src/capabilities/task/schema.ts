import { type Static, Type } from '@sinclair/typebox'
import { closed, guid, isoDateTime, limit, nullable, section } from '../../core/schema.js'

const name = Type.String({ minLength: 1, maxLength: 512 })
const customProperty = closed({ name, value: Type.String({ maxLength: 512 }) })
const selectorList = <T extends Parameters<typeof Type.Array>[0]>(item: T, description: string) =>
  Type.Optional(Type.Array(item, { maxItems: 100, description }))

/** Key-value pairs set (through kv/set, under the caller's rights) before any task starts. */
export const keyValueItem = closed({
  namespace: Type.String({ minLength: 1, maxLength: 256 }),
  key: Type.String({ minLength: 1, maxLength: 1024 }),
  value: Type.Union([Type.String(), Type.Number(), Type.Boolean()], { description: 'Stored as a string' }),
  ttl: Type.Optional(
    Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^[0-9]*$' })], {
      description: 'Time to live in ms; 0, "" or absent = no expiry. Load scripts send it as a string',
    }),
  ),
})

export const startRequest = closed(
  {
    // Not the `guid` pattern: a malformed id is answered per item as `invalid`, as Butler does, not
    // by refusing the whole request.
    taskIds: selectorList(Type.String({ maxLength: 128 }), 'Task GUIDs, any case'),
    taskNames: selectorList(name, 'Task names (QRS compares them case-insensitively); every match starts'),
    tags: selectorList(name, 'Every task with this tag starts'),
    customProperties: selectorList(customProperty, 'Every task with this custom property value starts'),
    allTaskIdsMustExist: Type.Optional(
      Type.Boolean({
        description:
          'All or nothing for taskIds and taskNames: if one is invalid or missing, none of them starts ' +
          '(tags and custom properties are not affected, as in Butler)',
      }),
    ),
    keyValues: selectorList(keyValueItem, 'Set in the KV store before any task starts'),
  },
  { description: 'At least one of taskIds, taskNames, tags, customProperties' },
)
export type StartRequest = Static<typeof startRequest>

const selectorKind = Type.Union(['taskId', 'taskName', 'tag', 'customProperty'].map((s) => Type.Literal(s)))
export type SelectorKind = 'taskId' | 'taskName' | 'tag' | 'customProperty'
const itemStatus = Type.Union(['started', 'invalid', 'denied', 'not-found', 'failed'].map((s) => Type.Literal(s)))
export type ItemStatus = 'started' | 'invalid' | 'denied' | 'not-found' | 'failed'

/** One outcome per selector value, and per task it resolved to. */
export const startItem = closed({
  status: itemStatus,
  by: selectorKind,
  taskId: Type.Optional(Type.String()),
  taskName: Type.Optional(Type.String()),
  tag: Type.Optional(Type.String()),
  customProperty: Type.Optional(customProperty),
  executionId: Type.Optional(Type.String({ description: 'The execution (session) id QRS started' })),
  reason: Type.Optional(Type.String()),
  error: Type.Optional(closed({ code: Type.String(), message: Type.String() })),
})
export type StartItem = Static<typeof startItem>

export const executionRecord = closed({
  taskId: Type.String(),
  taskName: Type.String(),
  executionId: Type.String(),
  executionResultId: nullable(Type.String()),
  status: Type.String({ description: 'QRS TaskExecutionStatus name: Started, FinishedSuccess, FinishedFail …' }),
  statusCode: Type.Integer({ minimum: 0 }),
  succeeded: nullable(Type.Boolean({ description: 'null while running' })),
  startedAt: nullable(isoDateTime()),
  endedAt: nullable(isoDateTime()),
  durationMs: nullable(Type.Integer({ minimum: 0 })),
  node: nullable(Type.String()),
  scriptLogTail: Type.Optional(Type.Array(Type.String(), { description: 'Last lines of the script log (failures)' })),
})
export type ExecutionRecord = Static<typeof executionRecord>

const counts = closed({
  started: Type.Integer(),
  invalid: Type.Integer(),
  denied: Type.Integer(),
  notFound: Type.Integer(),
  failed: Type.Integer(),
})

export const acceptedResult = {
  items: Type.Array(startItem),
  counts,
  keyValues: Type.Array(closed({ namespace: Type.String(), key: Type.String() })),
}

export const startResult = Type.Object(
  {
    ...acceptedResult,
    executions: Type.Optional(Type.Array(executionRecord, { description: 'With wait: true, every run as it ended' })),
    allSucceeded: Type.Optional(Type.Boolean()),
    jobId: Type.String(),
    state: Type.String(),
  },
  { additionalProperties: false },
)

export const statusRequest = closed(
  {
    taskId: Type.Optional(guid('A task GUID: its last execution')),
    executionId: Type.Optional(guid('An execution (session) id')),
  },
  {
    // Each branch names its property too, so the schema compiles under ajv's strictRequired.
    oneOf: [
      { required: ['taskId'], properties: { taskId: { type: 'string' } } },
      { required: ['executionId'], properties: { executionId: { type: 'string' } } },
    ],
    description: 'Exactly one of taskId, executionId',
  },
)

export const statusResult = closed({ execution: nullable(executionRecord) })

export const taskSummary = closed({
  id: Type.String(),
  name: Type.String(),
  taskType: Type.String(),
  enabled: Type.Boolean(),
  appId: nullable(Type.String()),
  appName: nullable(Type.String()),
  tags: Type.Array(Type.String()),
  customProperties: Type.Array(customProperty),
  lastExecution: nullable(
    closed({
      status: Type.String(),
      startedAt: nullable(isoDateTime()),
      endedAt: nullable(isoDateTime()),
      durationMs: nullable(Type.Integer()),
    }),
  ),
})

export const listRequest = closed({
  name: Type.Optional(name),
  tag: Type.Optional(name),
  customProperty: Type.Optional(customProperty),
})
export const listResult = closed({ tasks: Type.Array(taskSummary) })

export const eventSchema = Type.Object({ ...executionRecord.properties }, { additionalProperties: true })

export const configSchema = section({
  allow: section(
    {
      enable: Type.Boolean({ default: false, description: 'Off: every task may be started' }),
      taskIds: Type.Array(Type.String(), { default: [], description: 'Task GUIDs that may be started' }),
      tags: Type.Array(Type.String(), { default: [], description: 'Tasks with one of these tags may be started' }),
      customProperties: Type.Array(customProperty, {
        default: [],
        description: 'Tasks with one of these custom property values may be started',
      }),
    },
    {
      description:
        'Allow-list for task/start, on every door (MQTT, HTTP, CLI, scheduler). A task may start when its id, ' +
        'one of its tags or one of its custom property values is listed; a tags/customProperties selector ' +
        'must itself be listed',
    },
  ),
  startTimeoutMs: limit(
    15_000,
    'Longest the start phase (finding tasks, setting KV pairs, starting them) may take; a hung QRS is ' +
      'reported after this, not after the client timeout and its retries',
  ),
  pollIntervalMs: limit(1_000, 'How often running executions are read from QRS (one query for all of them)', 10),
  unreachableGiveUpMs: limit(
    300_000,
    'A followed run whose QRS stays unreachable this long fails with SENSE_UNREACHABLE',
  ),
  scriptLogTailLines: limit(20, 'Script log lines a failed run reports', 0),
  maxTasksPerRequest: limit(200, 'Most tasks one task/start may start (tags and custom properties can match many)'),
  startTopic: section(
    {
      enable: Type.Boolean({
        default: false,
        description: "Butler's habit: a bare task GUID published on the topic starts that task",
      }),
      topic: Type.String({ minLength: 1, default: 'qliksense/start_task' }),
      resultTopic: Type.String({
        minLength: 1,
        default: 'qliksense/start_task/result',
        description: 'Where the outcome (the task/start response envelope) is published',
      }),
    },
    { description: "Opt-in: Butler's MQTT start topic, through the same allow-list and the publisher's rights" },
  ),
})
export type TaskConfig = Static<typeof configSchema>
