import type { SimContext } from '../../context.js'
import { EMPTY_GUID } from '../../ids.js'
import { storedUserLabel } from '../auth.js'
import { empty, json, text, type QrsResponse } from '../http-util.js'
import { route, type QrsRequest, type QrsRoute } from '../router.js'

/** Task start endpoints (QLIK-PROTOCOLS §1.7). */

function resolveTaskId(req: QrsRequest, ctx: SimContext): string | null {
  if (req.params.id) return req.params.id
  const name = req.query.get('name')
  return name ? (ctx.model.findTaskByName(name)?.id ?? null) : null
}

/** `POST task/{id}/start` and `task/start?name=`: 204 when started (Butler demands exactly 204). */
function startAsync(req: QrsRequest, ctx: SimContext): QrsResponse {
  const id = resolveTaskId(req, ctx)
  const ref = id ?? req.query.get('name') ?? ''
  if (!id) return text(ctx.texts.qrs.taskNotFoundBody(ref), 404)
  const result = ctx.executor.start(id, storedUserLabel(ctx.model, req.user))
  if (result.status === 'not-found') return text(ctx.texts.qrs.taskNotFoundBody(ref), 404)
  if (result.status === 'disabled') return empty(ctx.texts.qrs.disabledTaskStartStatus)
  return empty(204)
}

/**
 * `POST task/{id}/start/synchronous`: `{"value": sessionId}` once the task has STARTED (not finished),
 * the empty GUID when it did not start (disabled).
 */
function startSynchronous(req: QrsRequest, ctx: SimContext): QrsResponse {
  const id = resolveTaskId(req, ctx)
  const ref = id ?? req.query.get('name') ?? ''
  if (!id) return text(ctx.texts.qrs.taskNotFoundBody(ref), 404)
  const result = ctx.executor.start(id, storedUserLabel(ctx.model, req.user))
  if (result.status === 'not-found') return text(ctx.texts.qrs.taskNotFoundBody(ref), 404)
  const sessionId = result.status === 'disabled' ? EMPTY_GUID : result.sessionId
  return json({ value: sessionId }, ctx.texts.qrs.syncStartStatus)
}

/** `POST task/start/many` with a JSON array of task GUIDs; unknown ids are skipped. */
function startMany(req: QrsRequest, ctx: SimContext): QrsResponse {
  let ids: unknown
  try {
    ids = JSON.parse(req.body || '[]')
  } catch {
    return text('Body must be a JSON array of task ids', 400)
  }
  if (!Array.isArray(ids) || !ids.every((i) => typeof i === 'string'))
    return text('Body must be a JSON array of task ids', 400)
  for (const id of ids as string[]) ctx.executor.start(id, storedUserLabel(ctx.model, req.user))
  return empty(ctx.texts.qrs.startManyStatus)
}

export function taskStartRoutes(): QrsRoute[] {
  return [
    route('POST', 'task/start/many', startMany),
    route('POST', 'task/start/synchronous', startSynchronous),
    route('POST', 'task/start', startAsync),
    route('POST', 'task/:id/start/synchronous', startSynchronous),
    route('POST', 'task/:id/start', startAsync),
  ]
}
