import type { SimContext } from '../context.js'
import { patchFaults } from '../faults.js'
import type { TaskBehaviour } from '../model/types.js'

/**
 * The control plane (QLIK-PROTOCOLS §4.7; ours, not Qlik's). Handlers take the parsed JSON body and
 * return `[status, body]`.
 */

export interface ControlDeps {
  ctx: SimContext
  reset(): Promise<void>
  settings(): unknown
}

export type ControlResult = [number, unknown]
type Handler = (
  params: Record<string, string>,
  body: Record<string, unknown>,
  query: URLSearchParams,
) => ControlResult | Promise<ControlResult>

const BEHAVIOUR_KEYS: Record<keyof TaskBehaviour, 'string' | 'number'> = {
  outcome: 'string',
  durationMs: 'number',
  failLine: 'number',
  errorText: 'string',
  retriesBeforeSuccess: 'number',
  abortUser: 'string',
  distributionQueueMs: 'number',
}

function behaviourPatch(body: Record<string, unknown>): Partial<TaskBehaviour> | string {
  const patch: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(body)) {
    const type = BEHAVIOUR_KEYS[key as keyof TaskBehaviour]
    if (!type) return `unknown behaviour field '${key}'`
    if (value !== null && typeof value !== type) return `'${key}' must be a ${type}`
    patch[key] = value ?? undefined
  }
  if (patch.outcome !== undefined && !['success', 'fail', 'abort'].includes(patch.outcome as string))
    return "'outcome' must be success, fail or abort"
  return patch as Partial<TaskBehaviour>
}

export function controlRoutes(deps: ControlDeps): Array<{ method: string; path: string; handler: Handler }> {
  const { ctx } = deps
  return [
    { method: 'GET', path: 'health', handler: () => [200, { ok: true }] },
    { method: 'GET', path: 'settings', handler: () => [200, deps.settings()] },
    { method: 'GET', path: 'faults', handler: () => [200, ctx.faults] },
    {
      method: 'POST',
      path: 'faults',
      handler: (_p, body) => {
        const rejected = patchFaults(ctx.faults, body)
        return rejected.length
          ? [400, { error: `rejected: ${rejected.join(', ')}`, faults: ctx.faults }]
          : [200, ctx.faults]
      },
    },
    {
      method: 'POST',
      path: 'tasks/:id/behaviour',
      handler: (p, body) => {
        const patch = behaviourPatch(body)
        if (typeof patch === 'string') return [400, { error: patch }]
        const behaviour = ctx.executor.setBehaviour(p.id ?? '', patch)
        return behaviour ? [200, behaviour] : [404, { error: 'no such task' }]
      },
    },
    {
      // "As the scheduler would": same path as POST /qrs/task/{id}/start, run as sa_scheduler.
      method: 'POST',
      path: 'tasks/:id/trigger',
      handler: (p, body) => {
        const user = typeof body.user === 'string' ? body.user : ctx.texts.datagram.schedulerUser
        const result = ctx.executor.start(p.id ?? '', user)
        if (result.status === 'not-found') return [404, { error: 'no such task' }]
        if (result.status === 'disabled') return [409, { error: 'task is disabled' }]
        return [200, { sessionId: result.sessionId, status: result.status }]
      },
    },
    {
      method: 'POST',
      path: 'executions/:id/abort',
      handler: (p, body) => {
        const user = typeof body.user === 'string' ? body.user : ctx.texts.datagram.schedulerUser
        return ctx.executor.abort(p.id ?? '', user)
          ? [200, { aborting: true }]
          : [404, { error: 'no such running execution' }]
      },
    },
    { method: 'GET', path: 'executions', handler: () => [200, ctx.executor.runningSessions()] },
    {
      method: 'POST',
      path: 'udp/send',
      handler: async (_p, body) => {
        if (typeof body.raw !== 'string') return [400, { error: "'raw' must be a string" }]
        await ctx.sender.send(body.raw)
        return [200, { sent: true }]
      },
    },
    { method: 'GET', path: 'udp/sent', handler: () => [200, ctx.sender.sent] },
    {
      method: 'GET',
      path: 'requests',
      handler: (_p, _b, query) => {
        const face = query.get('face')
        return [200, ctx.recorder.list(face === 'qrs' || face === 'engine' ? face : undefined)]
      },
    },
    {
      method: 'DELETE',
      path: 'requests',
      handler: () => {
        ctx.recorder.clear()
        return [204, null]
      },
    },
    {
      method: 'POST',
      path: 'reset',
      handler: async () => {
        await deps.reset()
        return [200, { reset: true }]
      },
    },
  ]
}
