import type { SimContext } from '../../context.js'
import { NEVER, stableGuid } from '../../ids.js'
import type { SimTask } from '../../model/types.js'
import { storedUserLabel } from '../auth.js'
import { empty, json, text, type QrsResponse } from '../http-util.js'
import { route, type QrsRequest, type QrsRoute } from '../router.js'

/** `GET /qrs/about` (§4.3): a health probe for clients. */
function about(_req: QrsRequest, ctx: SimContext): QrsResponse {
  return json({
    buildVersion: '30.22.4.0',
    buildDate: '9/20/2013 10:09:00 AM',
    databaseProvider: 'Devart.Data.PostgreSql',
    nodeType: 1,
    sharedPersistence: true,
    requiresBootstrap: false,
    singleNodeOnly: false,
    engineVersion: ctx.model.site.engineVersion,
    schemaPath: 'About',
  })
}

/**
 * `POST /qrs/app/{id}/reload` (§4.3): the QMC's "reload now" runs the app's manual reload task,
 * named "Manually triggered reload of <app>" (§3.3 field 2), creating it on first use.
 */
function appReload(req: QrsRequest, ctx: SimContext): QrsResponse {
  const app = ctx.model.apps.get(req.params.id ?? '')
  if (!app) return text(ctx.texts.qrs.notFoundBody, 404)
  const name = `Manually triggered reload of ${app.name}`
  let task = ctx.model.tasks.values().find((t) => t.appId === app.id && t.isManuallyTriggered && t.name === name)
  if (!task) {
    const created: SimTask = {
      id: stableGuid(`manual-reload:${app.id}`),
      name,
      taskType: 0,
      appId: app.id,
      enabled: true,
      maxRetries: 0,
      taskSessionTimeout: 1440,
      isManuallyTriggered: true,
      isPartialReload: false,
      timeToLive: 0,
      preloadNodeIds: [],
      tagIds: [],
      customProperties: [],
      behaviour: { outcome: 'success', durationMs: 1000 },
      startAfterSuccessOf: [],
      path: '',
      parameters: '',
      userDirectory: '',
      operationalId: stableGuid(`manual-reload-op:${app.id}`),
      nextExecution: NEVER,
      lastExecutionResultId: null,
      createdDate: new Date().toISOString(),
      modifiedDate: new Date().toISOString(),
      modifiedByUserName: storedUserLabel(ctx.model, req.user),
    }
    ctx.model.tasks.set(created)
    task = created
  }
  ctx.executor.start(task.id, storedUserLabel(ctx.model, req.user))
  return empty(204)
}

export function miscRoutes(): QrsRoute[] {
  return [route('GET', 'about', about), route('POST', 'app/:id/reload', appReload)]
}
