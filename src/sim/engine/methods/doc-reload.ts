import type { EngineReloadOptions, EngineReloadResult } from '../backend.js'
import { appOf, typed, type CallContext, type MethodHandler } from '../context.js'
import { EngineRpcError } from '../errors.js'
import type { HandleTarget } from '../handles.js'

type DocContext = CallContext<Extract<HandleTarget, { struct: 'Doc' }>>

/**
 * Doc methods that change the app: DoReload(Ex), DoSave, SetScript (QLIK-PROTOCOLS §2.4, §4.4).
 * A reload awaits the backend's script runner; other calls on the socket keep flowing because the
 * session handles every request independently (§4.4: DoReload must not block the socket).
 */
export const docReloadMethods: Record<string, MethodHandler> = {
  DoReload: typed(async (ctx: DocContext, args) => {
    const outcome = await runReload(ctx, {
      mode: Number(args['qMode']),
      partial: args['qPartial'] === true,
      debug: args['qDebug'] === true,
    })
    // §0.5: Butler tests `=== true`, so qReturn is a real boolean.
    return { result: { qReturn: outcome.success }, change: [ctx.handle] }
  }),

  DoReloadEx: typed(async (ctx: DocContext, args) => {
    const params = (args['qParams'] ?? {}) as Record<string, unknown>
    const reloadId =
      typeof params['qReloadId'] === 'string' && params['qReloadId'] !== '' ? params['qReloadId'] : undefined
    const outcome = await runReload(ctx, {
      mode: Number(params['qMode'] ?? 0),
      partial: params['qPartial'] === true,
      debug: params['qDebug'] === true,
      ...(reloadId === undefined ? {} : { reloadId }),
    })
    const qResult = {
      qSuccess: outcome.success,
      qScriptLogFile: outcome.scriptLogFile ?? scriptLogPath(ctx.target.appId, new Date()),
      qEndedWithMemoryConstraint: outcome.endedWithMemoryConstraint ?? false,
    }
    return { result: { qResult }, change: [ctx.handle] }
  }),

  DoSave: typed((ctx: DocContext) => {
    appOf(ctx, ctx.target.appId)
    ctx.shared.backend.save(ctx.target.appId)
    return { result: {} }
  }),

  SetScript: typed((ctx: DocContext, args) => {
    const setScript = ctx.shared.backend.setScript?.bind(ctx.shared.backend)
    if (setScript === undefined) throw new EngineRpcError('METHOD_NOT_FOUND', 'SetScript')
    appOf(ctx, ctx.target.appId)
    setScript(ctx.target.appId, String(args['qScript']))
    return { result: {}, change: [ctx.handle] }
  }),
}

async function runReload(ctx: DocContext, opts: Omit<EngineReloadOptions, 'user'>): Promise<EngineReloadResult> {
  const appId = ctx.target.appId
  appOf(ctx, appId)
  if (ctx.shared.reloading.has(appId)) throw new EngineRpcError('RELOAD_IN_PROGRESS', appId)
  ctx.shared.reloading.add(appId)
  const progress = ctx.state.progress.begin(ctx.requestId)
  const cancel = new AbortController()
  ctx.state.reloads.add(cancel)
  try {
    const user = ctx.state.user
    const options = { ...opts, signal: cancel.signal, ...(user === undefined ? {} : { user }) }
    return await ctx.shared.backend.reload(appId, options, (step) => progress.apply(step))
  } finally {
    ctx.state.reloads.delete(cancel)
    progress.finish()
    ctx.shared.reloading.delete(appId)
  }
}

/** DoReloadEx's log path when the backend names none; the pattern is (unconfirmed) per §2.4. */
function scriptLogPath(appId: string, at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').slice(0, 15)
  return `C:\\ProgramData\\Qlik\\Sense\\Log\\Script\\${appId}.${stamp}.log`
}
