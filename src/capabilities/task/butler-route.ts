import { type Static, Type } from '@sinclair/typebox'
import type { HttpRequestParts, HttpRoute } from '../../core/capability.js'
import type { StartItem, StartRequest, startResult } from './schema.js'

type Result = Static<typeof startResult>

/**
 * Butler answers every failure of this route with 500 "Failed starting task" (BUTLER-REFERENCE §7.2).
 * NOT_CONFIGURED keeps its 503: sensebus without a Sense site is a setup matter, not a failed start.
 */
const BUTLER_ERRORS = {
  SENSE_UNREACHABLE: 500,
  SENSE_AUTH: 500,
  SENSE_ERROR: 500,
  TIMEOUT: 500,
} as const

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v)
}

/**
 * The body items, as Butler's Fastify saw them: no body or `null` is no items; Fastify's
 * `coerceTypes: 'array'` turned a bare object into a one-item array and an absent body into `[null]`,
 * so a single object and `null` entries are accepted too.
 */
function bodyItems(body: unknown): Record<string, unknown>[] {
  if (body === undefined || body === null) return []
  const list = Array.isArray(body) ? body : [body]
  return list.filter(isObject)
}

const text = (v: unknown): string => (v === undefined || v === null ? '' : String(v))

/** `PUT|POST /v4/reloadtask/:taskId/start` → a task/start request (BUTLER-REFERENCE §7.2). */
export function butlerStartRequest({ params, query, body }: HttpRequestParts): StartRequest {
  const req = {
    taskIds: [] as string[],
    tags: [] as string[],
    customProperties: [] as Array<{ name: string; value: string }>,
    keyValues: [] as NonNullable<StartRequest['keyValues']>,
  }
  // `-` is Butler's "everything is in the body".
  if (params.taskId !== undefined && params.taskId !== '-') req.taskIds.push(params.taskId)
  for (const item of bodyItems(body)) {
    const payload = isObject(item.payload) ? item.payload : {}
    if (item.type === 'starttaskid') req.taskIds.push(text(payload.taskId))
    else if (item.type === 'starttasktag') req.tags.push(text(payload.tag))
    else if (item.type === 'starttaskcustomproperty')
      req.customProperties.push({ name: text(payload.customPropertyName), value: text(payload.customPropertyValue) })
    else if (item.type === 'keyvaluestore') {
      // Butler stores the pair only when namespace, key and value are all non-empty, and skips it otherwise.
      if (!payload.namespace || !payload.key || !payload.value) continue
      const ttl = payload.ttl
      req.keyValues.push({
        namespace: text(payload.namespace),
        key: text(payload.key),
        value:
          typeof payload.value === 'number' || typeof payload.value === 'boolean' ? payload.value : text(payload.value),
        ...(ttl === undefined || ttl === null ? {} : { ttl: typeof ttl === 'number' ? ttl : text(ttl) }),
      })
    }
  }
  const flag = query.allTaskIdsMustExist
  // Fastify coerced "true"/"false"; anything else fails validation (400), as Butler's schema did.
  const allTaskIdsMustExist = flag === undefined ? undefined : flag === 'true' ? true : flag === 'false' ? false : flag
  return {
    ...req,
    ...(allTaskIdsMustExist === undefined ? {} : { allTaskIdsMustExist: allTaskIdsMustExist as boolean }),
  }
}

const started = (i: StartItem) => ({ taskId: i.taskId as string, taskName: i.taskName as string })

const taskRef = Type.Object({ taskId: Type.String() })
const startedTask = Type.Object({ taskId: Type.String(), taskName: Type.String() })
/** Butler's 200 body for task starts, as `butlerStartBody` builds it. */
export const butlerStartBodySchema = Type.Object({
  tasksId: Type.Object({
    started: Type.Array(startedTask),
    invalid: Type.Array(taskRef),
    denied: Type.Array(taskRef),
  }),
  tasksTag: Type.Array(startedTask),
  tasksTagDenied: Type.Array(Type.Object({ tag: Type.String() })),
  tasksCP: Type.Array(startedTask),
  tasksCPDenied: Type.Array(Type.Object({ name: Type.String(), value: Type.String() })),
})

/** Our per-item result in Butler's 200 body. */
export function butlerStartBody(data: Result): unknown {
  const items = data.items
  const byId = items.filter((i) => i.by === 'taskId')
  const isStarted = (i: StartItem) => i.status === 'started'
  return {
    tasksId: {
      started: byId.filter(isStarted).map(started),
      // Butler calls a malformed id and an id QRS does not know both "invalid".
      invalid: byId
        .filter((i) => i.status === 'invalid' || i.status === 'not-found')
        .map((i) => ({ taskId: i.taskId })),
      denied: byId.filter((i) => i.status === 'denied').map((i) => ({ taskId: i.taskId })),
    },
    tasksTag: items.filter((i) => i.by === 'tag' && isStarted(i)).map(started),
    tasksTagDenied: items.filter((i) => i.by === 'tag' && i.status === 'denied').map((i) => ({ tag: i.tag })),
    tasksCP: items.filter((i) => i.by === 'customProperty' && isStarted(i)).map(started),
    tasksCPDenied: items
      .filter((i) => i.by === 'customProperty' && i.status === 'denied')
      .map((i) => ({ name: i.customProperty?.name, value: i.customProperty?.value })),
  }
}

export function butlerStartRoutes(): HttpRoute<StartRequest, Result>[] {
  return (['PUT', 'POST'] as const).map((method) => ({
    method,
    path: '/v4/reloadtask/:taskId/start',
    butlerFlag: 'senseStartTask',
    query: ['allTaskIdsMustExist'],
    summary: 'Start tasks (Butler): the id in the path, or `-` and a body array of items',
    toRequest: butlerStartRequest,
    status: 200,
    toBody: butlerStartBody,
    response: butlerStartBodySchema,
    errorStatus: BUTLER_ERRORS,
  }))
}
