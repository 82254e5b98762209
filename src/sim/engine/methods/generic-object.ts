import type { EngineApp, EnginePropertyTree } from '../backend.js'
import { appOf, typed, type CallContext, type MethodHandler } from '../context.js'
import { EngineRpcError } from '../errors.js'
import type { HandleTarget } from '../handles.js'
import { sessionObjectLayout } from '../layouts/lists.js'
import { appObjectLayout, findTree, fullPropertyTree } from '../layouts/objects.js'

type ObjectContext = CallContext<Extract<HandleTarget, { struct: 'GenericObject' }>>

/**
 * GenericObject methods (QLIK-PROTOCOLS §2.4). A handle is either a session object (its
 * properties live in the session, its lists are computed from the app on every GetLayout) or an
 * app object (a sheet, story, … whose property tree comes from the backend).
 */
export const genericObjectMethods: Record<string, MethodHandler> = {
  GetLayout: typed((ctx: ObjectContext) => {
    const app = appOf(ctx, ctx.target.appId)
    const session = ctx.target.session
    const qLayout = session === undefined ? appObjectLayout(treeOf(ctx, app)) : sessionObjectLayout(app, session)
    return { result: { qLayout } }
  }),

  GetProperties: typed((ctx: ObjectContext) => {
    const session = ctx.target.session
    const qProp = session ?? treeOf(ctx, appOf(ctx, ctx.target.appId)).qProperty
    return { result: { qProp } }
  }),

  GetFullPropertyTree: typed((ctx: ObjectContext) => {
    const session = ctx.target.session
    const tree: EnginePropertyTree =
      session === undefined ? treeOf(ctx, appOf(ctx, ctx.target.appId)) : { qProperty: session, qChildren: [] }
    return { result: { qPropEntry: fullPropertyTree(tree) } }
  }),
}

function treeOf(ctx: ObjectContext, app: EngineApp): EnginePropertyTree {
  const tree = findTree(app, ctx.target.id)
  // The object vanished from the model after its handle was handed out.
  if (tree === undefined) throw new EngineRpcError('INVALID_PARAMETERS', `Object ${ctx.target.id} no longer exists`)
  return tree
}
