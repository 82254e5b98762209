import { randomBytes } from 'node:crypto'
import type { EngineApp, EngineProperties } from '../backend.js'
import { appOf, typed, type CallContext, type MethodHandler, type MethodOutcome } from '../context.js'
import type { HandleTarget } from '../handles.js'
import { findTree } from '../layouts/objects.js'

type DocContext = CallContext<Extract<HandleTarget, { struct: 'Doc' }>>
type LibraryStruct = 'GenericDimension' | 'GenericMeasure' | 'GenericBookmark' | 'GenericVariable'

/**
 * Doc methods that hand out object handles (QLIK-PROTOCOLS §2.4): session objects and the getters
 * for app objects and library entries. An unknown id answers `{qType: null, qHandle: null}`, which
 * enigma turns into "Object not found" (§2.3.2).
 */
export const docObjectMethods: Record<string, MethodHandler> = {
  CreateSessionObject: typed((ctx: DocContext, args) => {
    appOf(ctx, ctx.target.appId)
    const props = structuredClone(args['qProp']) as EngineProperties
    const info = (props.qInfo ?? { qId: '', qType: '' }) as { qId?: unknown; qType?: unknown }
    const qType = typeof info.qType === 'string' ? info.qType : ''
    // §2.5.2 step 6 (NxInfo): an empty or already-used qId gets a fresh one, never an error.
    const wanted = typeof info.qId === 'string' ? info.qId : ''
    const qId = wanted === '' || ctx.state.sessionObjects.has(wanted) ? freshId(ctx) : wanted
    props.qInfo = { qId, qType }
    const handle = ctx.state.handles.open({
      struct: 'GenericObject',
      appId: ctx.target.appId,
      id: qId,
      genericType: qType,
      session: props,
    })
    ctx.state.sessionObjects.set(qId, handle)
    return { result: { qReturn: ctx.state.handles.refOf(handle) } }
  }),

  DestroySessionObject: typed((ctx: DocContext, args) => {
    const handle = ctx.state.sessionObjects.get(String(args['qId']))
    if (handle === undefined) return { result: { qSuccess: false } }
    ctx.state.sessionObjects.delete(String(args['qId']))
    ctx.state.handles.release(handle)
    return { result: { qSuccess: true }, close: [handle] }
  }),

  GetObject: typed((ctx: DocContext, args) => {
    const id = String(args['qId'])
    const sessionHandle = ctx.state.sessionObjects.get(id)
    if (sessionHandle !== undefined) return { result: { qReturn: ctx.state.handles.refOf(sessionHandle) } }
    const tree = findTree(appOf(ctx, ctx.target.appId), id)
    if (tree === undefined) return notFound()
    const genericType = tree.qProperty.qInfo.qType
    return opened(ctx, { struct: 'GenericObject', appId: ctx.target.appId, id, genericType })
  }),

  GetDimension: libraryGetter('GenericDimension', (app, id) =>
    app.dimensions.find((d) => d.properties.qInfo.qId === id),
  ),
  GetMeasure: libraryGetter('GenericMeasure', (app, id) => app.measures.find((m) => m.properties.qInfo.qId === id)),
  GetBookmark: libraryGetter('GenericBookmark', (app, id) =>
    [...app.bookmarks, ...app.snapshots].find((b) => b.properties.qInfo.qId === id),
  ),
  GetVariableById: libraryGetter('GenericVariable', (app, id) =>
    app.variables.find((v) => v.properties.qInfo.qId === id),
  ),
}

function libraryGetter(
  struct: LibraryStruct,
  find: (app: EngineApp, id: string) => { properties: EngineProperties } | undefined,
): MethodHandler {
  return typed((ctx: DocContext, args) => {
    const id = String(args['qId'])
    const item = find(appOf(ctx, ctx.target.appId), id)
    if (item === undefined) return notFound()
    return opened(ctx, { struct, appId: ctx.target.appId, id, genericType: item.properties.qInfo.qType })
  })
}

function opened(ctx: DocContext, target: Exclude<HandleTarget, { struct: 'Global' | 'Doc' }>): MethodOutcome {
  const handle = ctx.state.handles.open(target)
  return { result: { qReturn: ctx.state.handles.refOf(handle) } }
}

function notFound(): MethodOutcome {
  return { result: { qReturn: { qType: null, qHandle: null } } }
}

/** Engine-style short ids; checked against the session so a fresh id never collides. */
function freshId(ctx: DocContext): string {
  for (;;) {
    const id = randomBytes(6).toString('base64url').slice(0, 7)
    if (!ctx.state.sessionObjects.has(id)) return id
  }
}
