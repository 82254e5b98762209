import type { EngineApp } from '../backend.js'
import { appOf, typed, type CallContext, type MethodHandler } from '../context.js'
import { EngineRpcError } from '../errors.js'
import type { HandleTarget } from '../handles.js'
import { modelTables, tablesAndKeys } from '../layouts/tables.js'

type DocContext = CallContext<Extract<HandleTarget, { struct: 'Doc' }>>
type FieldContext = CallContext<Extract<HandleTarget, { struct: 'Field' }>>

/**
 * The data-model reads a client makes after a reload to check what it loaded: the tables and keys,
 * a field's distinct values, and a few chart-expression functions (QLIK-PROTOCOLS §2.4 "also worth
 * having"). Values come from the app's field list; the simulator keeps no rows.
 */
export const docDataMethods: Record<string, MethodHandler> = {
  GetTablesAndKeys: typed((ctx: DocContext) => ({ result: tablesAndKeys(appOf(ctx, ctx.target.appId)) })),

  GetField: typed((ctx: DocContext, args) => {
    const name = String(args['qFieldName'])
    const app = appOf(ctx, ctx.target.appId)
    // Like GetObject for a missing id (§2.3.2): a null reference, which enigma reports as "Object not found".
    if (!app.fields.some((f) => f.qName === name)) return { result: { qReturn: { qType: null, qHandle: null } } }
    const handle = ctx.state.handles.open({ struct: 'Field', appId: app.id, name })
    return { result: { qReturn: ctx.state.handles.refOf(handle) } }
  }),

  Evaluate: typed((ctx: DocContext, args) => ({
    result: { qReturn: evaluate(appOf(ctx, ctx.target.appId), String(args['qExpression'] ?? '')) },
  })),
}

export const fieldMethods: Record<string, MethodHandler> = {
  GetCardinal: typed((ctx: FieldContext) => ({ result: { qReturn: fieldOf(ctx).qCardinal ?? 0 } })),
  GetNxProperties: typed((ctx: FieldContext) => {
    fieldOf(ctx)
    return { result: { qProperties: { qOneAndOnlyOne: false } } }
  }),
}

function fieldOf(ctx: FieldContext) {
  const field = appOf(ctx, ctx.target.appId).fields.find((f) => f.qName === ctx.target.name)
  if (field === undefined) throw new EngineRpcError('INVALID_PARAMETERS', `Field ${ctx.target.name} no longer exists`)
  return field
}

const CALL = /^\s*(\w+)\s*\(\s*(?:DISTINCT\s+)?(?:'([^']*)'|\[([^\]]*)\]|([\w$]+))?\s*\)\s*$/i

/**
 * The functions a reload check asks for; anything else renders as the engine's null, `-`
 * (what the engine returns for an expression it cannot evaluate is unconfirmed).
 */
export function evaluate(app: EngineApp, expression: string): string {
  const text = expression.trim().replace(/^=/, '').trim()
  if (/^-?\d+(\.\d+)?$/.test(text)) return text
  const literal = /^'([^']*)'$/.exec(text)
  if (literal) return literal[1] as string
  const m = CALL.exec(text)
  if (!m) return '-'
  const fn = (m[1] as string).toLowerCase()
  const arg = m[2] ?? m[3] ?? m[4]
  const tables = modelTables(app)
  const field = app.fields.find((f) => f.qName === arg)
  switch (fn) {
    case 'nooftables':
      return String(tables.length)
    case 'noofrows':
      return String(tables.find((t) => t.name === arg)?.rows ?? '-')
    case 'nooffields':
      return String(arg === undefined ? app.fields.length : (tables.find((t) => t.name === arg)?.fields.length ?? '-'))
    case 'fieldvaluecount':
    case 'count':
      return field ? String(field.qCardinal ?? 0) : '-'
    case 'reloadtime':
      return app.lastReloadTime || '-'
    case 'documenttitle':
      return app.name
    case 'documentname':
      return app.id
    default:
      return '-'
  }
}
