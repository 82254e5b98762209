import { appOf, type MethodHandler } from '../context.js'
import { EngineRpcError } from '../errors.js'
import { docListEntry } from '../layouts/doc.js'
import { ENGINE_SCHEMA_VERSION } from '../schema.js'

/** Global (handle -1) methods, QLIK-PROTOCOLS §2.4 and §4.4. */
export const globalMethods: Record<string, MethodHandler> = {
  EngineVersion: () => ({ result: { qVersion: { qComponentVersion: ENGINE_SCHEMA_VERSION } } }),

  GetDocList: (ctx) => ({ result: { qDocList: ctx.shared.backend.listApps().map(docListEntry) } }),

  OpenDoc: (ctx, args) => {
    const appId = String(args['qDocName'])
    // §2.6: one doc per socket; a second OpenDoc (even of the same app) is 1002.
    if (ctx.state.doc !== undefined) throw new EngineRpcError('APP_ALREADY_OPEN', appId)
    const app = appOf(ctx, appId)
    const handle = ctx.state.handles.open({ struct: 'Doc', appId: app.id })
    ctx.state.doc = { appId: app.id, handle, noData: args['qNoData'] === true }
    return { result: { qReturn: ctx.state.handles.refOf(handle) }, change: [handle] }
  },

  GetActiveDoc: (ctx) => {
    const doc = ctx.state.doc
    if (doc === undefined) throw new EngineRpcError('APP_INVALID')
    return { result: { qReturn: ctx.state.handles.refOf(doc.handle) } }
  },

  /** Stops the reloads running in this session; their DoReload answers false. */
  CancelReload: (ctx) => {
    for (const reload of ctx.state.reloads) reload.abort()
    return { result: {} }
  },

  GetProgress: (ctx, args) => {
    const requestId = Number(args['qRequestId'])
    return { result: { qProgressData: ctx.state.progress.read(requestId) } }
  },
}
