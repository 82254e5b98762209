import { EngineRpcError } from './errors.js'
import type { SchemaMethod } from './schema.js'

/**
 * Turns a request's `params` into named arguments, following the schema's `In` list.
 * enigma sends positional arrays with only the arguments the caller passed (QLIK-PROTOCOLS §2.3.1);
 * the engine also accepts an object of named params. Missing optional params take the schema default;
 * a missing required one, an extra positional one, or a type different from the default's → -32602.
 */
export function namedParams(method: SchemaMethod, params: unknown): Record<string, unknown> {
  const given = positional(method, params)
  const named: Record<string, unknown> = {}
  method.In.forEach((spec, i) => {
    const value = given[i]
    if (value === undefined) {
      if (spec.Optional !== true) {
        throw new EngineRpcError('INVALID_PARAMETERS', `Missing parameter ${spec.Name}`)
      }
      named[spec.Name] = structuredClone(spec.DefaultValue)
      return
    }
    if (!sameKind(value, spec.DefaultValue)) {
      throw new EngineRpcError('INVALID_PARAMETERS', `Bad type for parameter ${spec.Name}`)
    }
    named[spec.Name] = value
  })
  return named
}

function positional(method: SchemaMethod, params: unknown): unknown[] {
  if (params === undefined || params === null) return []
  if (Array.isArray(params)) {
    if (params.length > method.In.length) {
      throw new EngineRpcError('INVALID_PARAMETERS', 'Too many parameters')
    }
    return params
  }
  if (typeof params === 'object') {
    const byName = params as Record<string, unknown>
    const unknownKey = Object.keys(byName).find((k) => !method.In.some((p) => p.Name === k))
    if (unknownKey !== undefined) throw new EngineRpcError('INVALID_PARAMETERS', `Unknown parameter ${unknownKey}`)
    return method.In.map((p) => byName[p.Name])
  }
  throw new EngineRpcError('INVALID_PARAMETERS', 'params must be an array or an object')
}

/** A value matches when it has the JSON kind of the schema default; no default accepts anything. */
function sameKind(value: unknown, example: unknown): boolean {
  if (example === undefined || example === null) return true
  if (Array.isArray(example)) return Array.isArray(value)
  if (typeof example === 'object') return typeof value === 'object' && value !== null && !Array.isArray(value)
  return typeof value === typeof example
}
