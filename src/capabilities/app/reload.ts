import { Type } from '@sinclair/typebox'
import { capabilityWith } from '../../core/capability.js'
import { CapabilityError } from '../../core/errors.js'
import { closed, guid } from '../../core/schema.js'
import type { AppConfig } from './config.js'
import { startFollowUps, type FollowUp } from './follow-ups.js'
import { butlerErrors } from './list.js'

const taskIds = Type.Array(guid('A task id'), { maxItems: 100 })

const request = closed({
  appId: guid('The app to reload'),
  partial: Type.Optional(Type.Boolean({ description: 'Partial reload: only ADD/REPLACE/MERGE loads run' })),
  reloadMode: Type.Optional(
    Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2)], {
      description: 'DoReload qMode: 0 default, 1 stop on error (ABEND), 2 ignore errors',
    }),
  ),
  startTaskOnSuccess: Type.Optional(taskIds),
  startTaskOnFailure: Type.Optional(taskIds),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 1, description: 'Overrides capabilities.app.reloadTimeoutMs' })),
})

const followUp = Type.Object({
  taskId: Type.String(),
  started: Type.Boolean(),
  status: Type.String({
    description: "task/start's outcome for this task: started, denied (allow-list), not-found, invalid, failed",
  }),
  sessionId: Type.Optional(Type.String()),
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
})

const result = closed({
  appId: Type.String(),
  success: Type.Boolean(),
  saved: Type.Boolean(),
  partial: Type.Boolean(),
  reloadMode: Type.Integer(),
  durationMs: Type.Integer(),
  /** The last progress lines: the script's own account of what failed. */
  logTail: Type.Optional(Type.Array(Type.String())),
  errors: Type.Array(Type.Object({ message: Type.String(), line: Type.Optional(Type.String()) })),
  followUps: Type.Array(followUp),
})

/** Butler's body: `"partialReload": "true"` arrives as a string from load scripts, or as a boolean. */
function truthy(value: unknown): boolean | undefined {
  if (value === undefined || value === null || value === '') return undefined
  if (typeof value === 'boolean') return value
  if (typeof value === 'string') return value.trim().toLowerCase() === 'true'
  return undefined
}

function fromButler(body: unknown, appId: string): Record<string, unknown> {
  const b = (body && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Record<string, unknown>
  const partial = truthy(b['partialReload'])
  const mode = b['reloadMode'] === undefined || b['reloadMode'] === '' ? undefined : Number(b['reloadMode'])
  const ids = (v: unknown) => (Array.isArray(v) ? v : undefined)
  const onSuccess = ids(b['startQSEoWTaskOnSuccess'])
  const onFailure = ids(b['startQSEoWTaskOnFailure'])
  return {
    appId,
    ...(partial === undefined ? {} : { partial }),
    ...(mode === undefined ? {} : { reloadMode: mode }),
    ...(onSuccess === undefined ? {} : { startTaskOnSuccess: onSuccess }),
    ...(onFailure === undefined ? {} : { startTaskOnFailure: onFailure }),
  }
}

export const appReload = capabilityWith<unknown, AppConfig>()({
  name: 'app/reload',
  summary: 'Reload an app in the engine (full or partial), save it on success, then start follow-up tasks',
  description:
    'A job: progress events carry the engine progress lines; job/cancel and the timeout send CancelReload. ' +
    'The answer comes once the app is open (with wait: true, when the reload ended). Each reload runs on its ' +
    'own engine session, so it never collides with a dump of the same app. Follow-up tasks start through ' +
    "task/start under the caller's identity: its allow-list and grants apply, with one outcome per task.",
  request,
  result,
  roles: ['loadscript'],
  // The ceiling; the reload's own timeout (config or request) is what normally ends it.
  timeoutMs: 24 * 3_600_000,
  job: { accepts: true },
  example: {
    request: { appId: '8e7d6c5b-4a39-4281-b0c1-d2e3f4a5b6c7', partial: false, reloadMode: 0 },
    result: {
      appId: '8e7d6c5b-4a39-4281-b0c1-d2e3f4a5b6c7',
      success: true,
      saved: true,
      partial: false,
      reloadMode: 0,
      durationMs: 4210,
      errors: [],
      followUps: [],
    },
  },
  routes: [
    {
      method: 'PUT',
      path: '/v4/app/:appId/reload',
      butlerFlag: 'senseAppReload',
      toRequest: ({ params, body }) => fromButler(body, params['appId'] ?? '') as never,
      status: 201,
      toBody: (d) => ({ appId: d.appId }),
      response: Type.Object({ appId: Type.String() }),
      errorStatus: { ...butlerErrors, NOT_FOUND: 500 },
    },
  ],
  async handle(req, ctx) {
    const { services, config, signal } = ctx
    const partial = req.partial ?? false
    const reloadMode = req.reloadMode ?? 0
    const timeoutMs = req.timeoutMs ?? config.reloadTimeoutMs
    const timeout = AbortSignal.timeout(timeoutMs)
    const stop = AbortSignal.any([signal, timeout])
    const started = Date.now()
    let shown = 0
    const outcome = await services.sense.engine.reloadApp(req.appId, {
      mode: reloadMode,
      partial,
      pollMs: config.progressPollMs,
      signal: stop,
      onOpened: () => ctx.accept({ appId: req.appId }),
      onProgress: (p) => {
        const lines = p.log.split('\n').filter(Boolean)
        const fresh = lines.slice(shown)
        shown = lines.length
        if (fresh.length > 0 || p.transient)
          ctx.progress({ appId: req.appId, lines: fresh, transient: p.transient, elapsedMs: p.elapsedMs })
      },
    })
    const durationMs = Date.now() - started
    const lines = outcome.progress.log.split('\n').filter(Boolean)
    const errors = outcome.progress.errors.map((e) => ({
      message: e.message,
      ...(e.line === undefined ? {} : { line: e.line }),
    }))
    // Cancelled by the caller: nothing follows. Timed out: a failure, so the failure tasks run.
    if (signal.aborted) throw signal.reason
    const follow = (ids: readonly string[] | undefined) => startFollowUps(ctx.bus, ctx.identity, ids ?? [])
    if (outcome.cancelled) {
      const followUps = await follow(req.startTaskOnFailure)
      throw new CapabilityError('TIMEOUT', `Reload of ${req.appId} did not finish within ${timeoutMs} ms`, {
        details: { appId: req.appId, timeoutMs, logTail: lines.slice(-config.logTailLines), followUps },
      })
    }
    const followUps: FollowUp[] = await follow(outcome.success ? req.startTaskOnSuccess : req.startTaskOnFailure)
    return {
      appId: req.appId,
      success: outcome.success,
      saved: outcome.saved,
      partial,
      reloadMode,
      durationMs,
      ...(outcome.success ? {} : { logTail: lines.slice(-config.logTailLines) }),
      errors,
      followUps,
    }
  },
})
