import { type ObjectOptions, type TProperties, type TSchema, Type } from '@sinclair/typebox'

/**
 * Schema helpers on TypeBox: a schema is plain JSON Schema at run time (ajv validates it, topics/
 * publishes it) and a TypeScript type at compile time (`Static<typeof schema>`), so the two never
 * drift apart.
 */

/** A closed object: unknown properties are errors, which catches typos in requests and config. */
export function closed<P extends TProperties>(properties: P, options: ObjectOptions = {}) {
  return Type.Object(properties, { additionalProperties: false, ...options })
}

/** A config section: closed, and `{}` when absent so its own defaults apply. */
export function section<P extends TProperties>(properties: P, options: ObjectOptions = {}) {
  return Type.Object(properties, { additionalProperties: false, default: {}, ...options })
}

/** An optional property that is `null` or the given schema. */
export function nullable<T extends TSchema>(schema: T) {
  return Type.Union([schema, Type.Null()])
}

export const isoDateTime = (description?: string) =>
  Type.String({ format: 'date-time', ...(description ? { description } : {}) })

export const guid = (description = 'A GUID, any case') =>
  Type.String({ pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$', description })

/** Config integers: a minimum, a default, and what the knob is for. */
export function limit(def: number, description: string, minimum = 1) {
  return Type.Integer({ minimum, default: def, description })
}
