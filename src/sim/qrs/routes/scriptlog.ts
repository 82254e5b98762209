import type { SimContext } from '../../context.js'
import { newGuid } from '../../ids.js'
import type { SimExecutionResult } from '../../model/types.js'
import { json, text, type QrsResponse } from '../http-util.js'
import { route, type QrsRequest, type QrsRoute } from '../router.js'

/**
 * Script-log retrieval, both generations (QLIK-PROTOCOLS §1.8): a reference `{"value": ref}` from
 * `scriptlog?fileReferenceId=` (old) or `scriptlogfile?executionResultId=` (new), then the text from
 * `download/reloadtask/{ref}/{any file name}`.
 */

function resultsOfTask(ctx: SimContext, taskId: string): SimExecutionResult[] {
  const key = taskId.toLowerCase()
  return ctx.model.executionResults.values().filter((r) => r.taskId.toLowerCase() === key)
}

function reference(ctx: SimContext, result: SimExecutionResult | undefined): QrsResponse {
  if (!result || result.scriptLog === undefined) return text(ctx.texts.qrs.notFoundBody, 404)
  const ref = newGuid()
  ctx.model.downloadRefs.set(ref.toLowerCase(), result.id)
  return json({ value: ref })
}

function byFileReference(req: QrsRequest, ctx: SimContext): QrsResponse {
  const taskId = req.params.id ?? ''
  if (!ctx.model.tasks.has(taskId) || ctx.faults.scriptLogOldRouteBroken) return text(ctx.texts.qrs.notFoundBody, 404)
  const fileRef = (req.query.get('filereferenceid') ?? '').toLowerCase()
  return reference(
    ctx,
    resultsOfTask(ctx, taskId).find((r) => r.fileReferenceId.toLowerCase() === fileRef),
  )
}

function byExecutionResult(req: QrsRequest, ctx: SimContext): QrsResponse {
  const taskId = req.params.id ?? ''
  if (!ctx.model.tasks.has(taskId)) return text(ctx.texts.qrs.notFoundBody, 404)
  const resultId = (req.query.get('executionresultid') ?? '').toLowerCase()
  return reference(
    ctx,
    resultsOfTask(ctx, taskId).find((r) => r.id.toLowerCase() === resultId),
  )
}

function download(req: QrsRequest, ctx: SimContext): QrsResponse {
  const ref = (req.params.ref ?? '').toLowerCase()
  const resultId = ctx.model.downloadRefs.get(ref)
  const result = resultId ? ctx.model.executionResults.get(resultId) : undefined
  if (!result || result.scriptLog === undefined) return text(ctx.texts.qrs.notFoundBody, 404)
  // References are single-use (§1.8, unconfirmed); callers ask for a fresh one per attempt anyway.
  ctx.model.downloadRefs.delete(ref)
  // butler#1499: a download right after the task ended can fail; the fault reproduces it.
  const tooEarly = ctx.faults.downloadTooEarlyMs
  if (tooEarly > 0 && Date.now() - (result.finishedAtMs ?? 0) < tooEarly) return text(ctx.texts.qrs.notFoundBody, 404)
  return text(result.scriptLog, 200, ctx.texts.qrs.scriptLogContentType)
}

export function scriptLogRoutes(): QrsRoute[] {
  return [
    route('GET', 'reloadtask/:id/scriptlog', byFileReference),
    route('GET', 'reloadtask/:id/scriptlogfile', byExecutionResult),
    route('GET', 'download/reloadtask/:ref/:file', download),
  ]
}
