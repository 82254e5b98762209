import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import * as addFormatsModule from 'ajv-formats'
import type { FormatsPlugin } from 'ajv-formats'
import { CapabilityError } from './errors.js'

// ajv-formats ships CJS with a default export; under NodeNext it arrives wrapped.
const addFormats = ((addFormatsModule as unknown as { default?: FormatsPlugin }).default ??
  addFormatsModule) as FormatsPlugin

export type JsonSchema = Record<string, unknown>

export interface SchemaIssue {
  path: string
  message: string
}

/** One Ajv instance for requests: every error at once, defaults applied, unknown keys rejected by the schemas. */
export function createAjv(opts: { useDefaults?: boolean } = {}): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    verbose: true,
    useDefaults: opts.useDefaults ?? true,
    strict: false,
    coerceTypes: false,
  })
  addFormats(ajv)
  return ajv
}

/** Shared instances and compiled validators: a schema object is compiled once per process. */
const sharedAjv = new Map<boolean, Ajv>()
const compiled = new Map<boolean, WeakMap<object, ValidateFunction>>()

/**
 * The validator of a schema object, compiled on first use and reused after: capability schemas are
 * module-level objects, so every app started in one process (tests, benches) shares the work, which
 * is most of an empty start-up's CPU. Schemas must not carry `$id` (the instance is shared).
 */
export function compileOnce(schema: JsonSchema, opts: { useDefaults?: boolean } = {}): ValidateFunction {
  const useDefaults = opts.useDefaults ?? true
  let cache = compiled.get(useDefaults)
  if (!cache) {
    cache = new WeakMap()
    compiled.set(useDefaults, cache)
  }
  let validate = cache.get(schema)
  if (!validate) {
    let ajv = sharedAjv.get(useDefaults)
    if (!ajv) {
      ajv = createAjv({ useDefaults })
      sharedAjv.set(useDefaults, ajv)
    }
    validate = ajv.compile(schema)
    cache.set(schema, validate)
  }
  return validate
}

const listValues = (values: unknown[]) => values.map((v) => JSON.stringify(v)).join(', ')

/** An enum written as a union of literals (TypeBox's `Type.Union([Type.Literal(...)])`): its values, listed. */
function literalsOf(branches: unknown): string | undefined {
  if (!Array.isArray(branches) || branches.length === 0) return undefined
  if (!branches.every((b) => b && typeof b === 'object' && 'const' in b)) return undefined
  return listValues(branches.map((b) => (b as { const: unknown }).const))
}

export function toIssues(errors: ErrorObject[] | null | undefined): SchemaIssue[] {
  const all = errors ?? []
  // An anyOf/oneOf failure also reports each branch's failure; one line per field reads better.
  const unions = all.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf')
  const inUnion = (e: ErrorObject) =>
    unions.some(
      (u) =>
        u !== e &&
        e.instancePath === u.instancePath &&
        e.schemaPath.startsWith(u.schemaPath.replace(/\/(anyOf|oneOf)$/, '')),
    )
  return all
    .filter((e) => !inUnion(e))
    .map((e) => {
      let path = e.instancePath || '/'
      let message = e.message ?? 'is invalid'
      if (e.keyword === 'additionalProperties') {
        const extra = (e.params as { additionalProperty: string }).additionalProperty
        path = `${e.instancePath}/${extra}`
        message = 'is not a known property'
      } else if (e.keyword === 'anyOf' || e.keyword === 'oneOf') {
        const allowed = literalsOf(e.schema)
        const description = (e.parentSchema as { description?: string } | undefined)?.description
        if (allowed) message = `must be one of ${allowed}`
        else message = description ? `is not an allowed form: ${description}` : 'is not any of the allowed forms'
      } else if (e.keyword === 'enum') {
        message = `must be one of ${listValues((e.params as { allowedValues: unknown[] }).allowedValues)}`
      } else if (e.keyword === 'const') {
        message = `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`
      } else if (e.keyword === 'required') {
        path = `${e.instancePath}/${(e.params as { missingProperty: string }).missingProperty}`
        message = 'is required'
      }
      return { path, message }
    })
}

/** Validates in place (defaults are written into `value`) or throws VALIDATION_FAILED with every issue. */
export function assertValid<T>(validate: ValidateFunction, value: unknown, what = 'Request'): T {
  if (validate(value)) return value as T
  const issues = toIssues(validate.errors)
  const summary = issues.map((i) => `${i.path}: ${i.message}`).join('; ')
  throw new CapabilityError('VALIDATION_FAILED', `${what} is invalid: ${summary}`, { details: issues })
}
