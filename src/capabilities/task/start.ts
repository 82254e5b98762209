import type { Static } from '@sinclair/typebox'
import { CapabilityError, toCapabilityError } from '../../core/errors.js'
import { actingFor } from '../../core/identity.js'
import type { HandlerContext } from '../../core/capability.js'
import { EMPTY_GUID, type QrsClient, type Task } from '../../sense/qrs/index.js'
import { butlerStartRoutes } from './butler-route.js'
import { taskCapability, type TaskState } from './context.js'
import { withDeadline } from './deadline.js'
import { type Candidate, resolveCandidates } from './resolve.js'
import * as s from './schema.js'
import type { StartItem, StartRequest, TaskConfig } from './schema.js'
import type { WatchTarget } from './watcher.js'

type Ctx = HandlerContext<TaskState, TaskConfig>
type Accepted = { items: StartItem[]; counts: Static<typeof s.startResult>['counts']; keyValues: KvRef[] }
type KvRef = { namespace: string; key: string }

const SELECTORS = ['taskIds', 'taskNames', 'tags', 'customProperties', 'keyValues'] as const

export const taskStart = taskCapability({
  name: 'task/start',
  roles: ['loadscript'],
  summary: 'Start tasks by id, name, tag or custom property, then follow the runs until they end (a job)',
  description:
    'Answers once the tasks are started, with one item per selector value (started with its execution ' +
    'id, invalid, denied, not-found, failed); wait: true answers when every run has ended, with status, ' +
    "duration and a failed run's script log tail. key-value pairs are set first, through kv/set.",
  request: s.startRequest,
  result: s.startResult,
  job: { accepts: true },
  // The runs, not the start: a start that hangs is cut at capabilities.task.startTimeoutMs.
  timeoutMs: 24 * 3_600_000,
  example: {
    request: {
      taskIds: ['dec2a02a-1680-44ef-8dc2-e2bfb180af87'],
      keyValues: [{ namespace: 'etl', key: 'k', value: 'v' }],
    },
    result: {
      items: [
        {
          status: 'started',
          by: 'taskId',
          taskId: 'dec2a02a-1680-44ef-8dc2-e2bfb180af87',
          taskName: 'Manually triggered reload of Test failing reloads 2',
          executionId: '14a81bf5-f81c-4047-b1a1-193b0920de28',
        },
      ],
      counts: { started: 1, invalid: 0, denied: 0, notFound: 0, failed: 0 },
      keyValues: [{ namespace: 'etl', key: 'k' }],
      jobId: '0b6f1f0e-8b1e-4a43-9b0a-51d5c3c0c0de',
      state: 'running',
    },
  },
  routes: butlerStartRoutes(),
  async handle(req, ctx) {
    if (!SELECTORS.some((k) => req[k] !== undefined)) {
      throw new CapabilityError('VALIDATION_FAILED', `Name at least one of ${SELECTORS.join(', ')}`, {
        details: [{ path: '/', message: `must have one of ${SELECTORS.join(', ')}` }],
      })
    }
    const qrs = ctx.services.sense.qrs
    const accepted = await withDeadline(startPhase(req, ctx, qrs), ctx.config.startTimeoutMs, ctx.signal, () => {
      void ctx.services.sense.probe()
    })
    ctx.accept(accepted)
    const started = accepted.items.filter((i) => i.status === 'started' && i.executionId)
    const targets = uniqueRuns(started)
    const executions = await Promise.all(
      targets.map((t) => ctx.state.watcher.watch(t, (record) => ctx.progress({ ...record }), ctx.signal)),
    )
    return {
      ...accepted,
      executions,
      allSucceeded: executions.every((e) => e.succeeded === true),
    } as never
  },
})

async function startPhase(req: StartRequest, ctx: Ctx, qrs: QrsClient): Promise<Accepted> {
  const candidates = await resolveCandidates(req, qrs, ctx.state.allow(ctx.config))
  const toStart = new Map<string, Task>()
  for (const c of candidates) if (c.task) toStart.set(c.task.id.toLowerCase(), c.task)
  if (toStart.size > ctx.config.maxTasksPerRequest) {
    throw new CapabilityError(
      'LIMIT_EXCEEDED',
      `The selectors match ${toStart.size} tasks; at most ${ctx.config.maxTasksPerRequest} start per request`,
      { details: { tasks: toStart.size, limit: ctx.config.maxTasksPerRequest } },
    )
  }
  const keyValues = await setKeyValues(req.keyValues ?? [], ctx)
  const runs = new Map<string, Promise<StartOutcome>>()
  for (const [id, task] of toStart) runs.set(id, startOne(task, qrs, ctx))
  const items: StartItem[] = []
  for (const c of candidates) items.push(await outcomeOf(c, runs))
  return { items, counts: countOf(items), keyValues }
}

type StartOutcome = { executionId: string } | { error: CapabilityError }

async function startOne(task: Task, qrs: QrsClient, ctx: Ctx): Promise<StartOutcome> {
  try {
    const executionId = await qrs.startTaskSynchronous(task.id)
    // QLIK-PROTOCOLS §1.7: the empty GUID means the task did not start (disabled, no scheduler).
    if (executionId === EMPTY_GUID)
      return { error: new CapabilityError('CONFLICT', 'Sense did not start the task (disabled?)') }
    ctx.state.watcher.started({ taskId: task.id, taskName: task.name, executionId })
    return { executionId }
  } catch (err) {
    return { error: toCapabilityError(err) }
  }
}

async function outcomeOf(c: Candidate, runs: Map<string, Promise<StartOutcome>>): Promise<StartItem> {
  if (!c.task) return c.item
  const outcome = await (runs.get(c.task.id.toLowerCase()) as Promise<StartOutcome>)
  if ('executionId' in outcome) return { ...c.item, status: 'started', executionId: outcome.executionId }
  const { code, message } = outcome.error
  return { ...c.item, status: 'failed', error: { code, message } }
}

function countOf(items: StartItem[]): Accepted['counts'] {
  const n = (status: StartItem['status']) => items.filter((i) => i.status === status).length
  return {
    started: n('started'),
    invalid: n('invalid'),
    denied: n('denied'),
    notFound: n('not-found'),
    failed: n('failed'),
  }
}

/** The same run reached by two selectors is followed once. */
function uniqueRuns(items: StartItem[]): WatchTarget[] {
  const byId = new Map<string, WatchTarget>()
  for (const i of items) {
    const executionId = i.executionId as string
    byId.set(executionId.toLowerCase(), { taskId: i.taskId ?? '', taskName: i.taskName ?? '', executionId })
  }
  return [...byId.values()]
}

/**
 * Butler's keyvaluestore items: stored before any task starts, through kv/set under the caller's own
 * rights, so the KV module's limits, mirror and audit apply and task/start is no way around them.
 */
async function setKeyValues(items: NonNullable<StartRequest['keyValues']>, ctx: Ctx): Promise<KvRef[]> {
  const done: KvRef[] = []
  for (const [i, kv] of items.entries()) {
    const ttl = kv.ttl === undefined || kv.ttl === '' ? 0 : Number(kv.ttl)
    const body = { namespace: kv.namespace, key: kv.key, value: kv.value, ...(ttl > 0 ? { ttl } : {}) }
    const identity = actingFor(ctx.identity, ctx.identity.via, 'task/start')
    const env = await ctx.bus.request('kv/set', body, { identity, timeoutMs: ctx.config.startTimeoutMs })
    if (env.status === 'error') {
      throw new CapabilityError(env.error.code, `keyValues[${i}] was not stored: ${env.error.message}`, {
        details: env.error.details,
      })
    }
    done.push({ namespace: kv.namespace, key: kv.key })
  }
  return done
}
