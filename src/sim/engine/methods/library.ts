import type { EngineApp, EngineBookmark, EngineLibraryItem, EngineVariable } from '../backend.js'
import { appOf, typed, type CallContext, type MethodHandler } from '../context.js'
import { EngineRpcError } from '../errors.js'
import type { HandleTarget } from '../handles.js'
import { libraryLayout, variableLayout } from '../layouts/objects.js'

type LibraryTarget = Extract<
  HandleTarget,
  { struct: 'GenericDimension' | 'GenericMeasure' | 'GenericBookmark' | 'GenericVariable' }
>
type LibraryContext = CallContext<LibraryTarget>

/**
 * GetProperties / GetLayout for master dimensions, measures, bookmarks and variables
 * (QLIK-PROTOCOLS §2.4, §2.5.2 steps 3-5 and 10). One pair of handlers per struct, data-driven.
 */
function libraryMethods<T extends { properties: EngineLibraryItem['properties'] }>(
  find: (app: EngineApp, id: string) => T | undefined,
  layout: (item: T) => Record<string, unknown>,
): Record<string, MethodHandler> {
  const itemOf = (ctx: LibraryContext): T => {
    const item = find(appOf(ctx, ctx.target.appId), ctx.target.id)
    if (item === undefined) throw new EngineRpcError('INVALID_PARAMETERS', `Object ${ctx.target.id} no longer exists`)
    return item
  }
  return {
    GetProperties: typed((ctx: LibraryContext) => ({ result: { qProp: itemOf(ctx).properties } })),
    GetLayout: typed((ctx: LibraryContext) => ({ result: { qLayout: layout(itemOf(ctx)) } })),
  }
}

const byId = <T extends { properties: { qInfo: { qId: string } } }>(items: T[], id: string): T | undefined =>
  items.find((item) => item.properties.qInfo.qId === id)

export const dimensionMethods = libraryMethods<EngineLibraryItem>((app, id) => byId(app.dimensions, id), libraryLayout)
export const measureMethods = libraryMethods<EngineLibraryItem>((app, id) => byId(app.measures, id), libraryLayout)
export const bookmarkMethods = libraryMethods<EngineBookmark>(
  (app, id) => byId([...app.bookmarks, ...app.snapshots], id),
  libraryLayout,
)
export const variableMethods = libraryMethods<EngineVariable>((app, id) => byId(app.variables, id), variableLayout)
