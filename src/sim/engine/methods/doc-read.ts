import { appOf, typed, type CallContext, type MethodHandler } from '../context.js'
import { EngineRpcError } from '../errors.js'
import type { HandleTarget } from '../handles.js'
import { allInfos, appLayout } from '../layouts/doc.js'

type DocContext = CallContext<Extract<HandleTarget, { struct: 'Doc' }>>

const app = (ctx: DocContext) => appOf(ctx, ctx.target.appId)

/** Read-only Doc methods of the dump flow (QLIK-PROTOCOLS §2.4, §2.5.2 steps 1 and 9). */
export const docReadMethods: Record<string, MethodHandler> = {
  GetScript: typed((ctx: DocContext) => ({ result: { qScript: app(ctx).script } })),

  GetAppProperties: typed((ctx: DocContext) => ({ result: { qProp: app(ctx).properties } })),

  GetAppLayout: typed((ctx: DocContext) => ({
    result: { qLayout: appLayout(app(ctx), ctx.state.doc?.noData ?? false) },
  })),

  GetAllInfos: typed((ctx: DocContext) => ({ result: { qInfos: allInfos(app(ctx)) } })),

  GetLineage: typed((ctx: DocContext) => ({ result: { qLineage: app(ctx).lineage } })),

  GetConnections: typed((ctx: DocContext) => ({ result: { qConnections: app(ctx).connections } })),

  GetConnection: typed((ctx: DocContext, args) => {
    const id = String(args['qConnectionId'])
    const connection = app(ctx).connections.find((c) => c.qId === id)
    if (connection === undefined) throw new EngineRpcError('CONNECTION_NOT_FOUND', id)
    return { result: { qConnection: connection } }
  }),
}
