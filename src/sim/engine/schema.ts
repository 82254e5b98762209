import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

/**
 * The published QIX schema enigma.js ships (QLIK-PROTOCOLS §2.1: default engineVersion 12.612.0).
 * The face reads method signatures from it, so parameter names, order and defaults are exactly
 * what the official client expects, and struct names used as `qType` are checked against it (§0.4).
 */
export const ENGINE_SCHEMA_VERSION = '12.612.0'

export interface SchemaParam {
  Name: string
  DefaultValue?: unknown
  Optional?: boolean
}

export interface SchemaMethod {
  In: SchemaParam[]
  Out: { Name: string }[]
}

interface SchemaFile {
  structs: Record<string, Record<string, SchemaMethod>>
  version: string
}

let cached: SchemaFile | undefined

function schema(): SchemaFile {
  if (cached === undefined) {
    const require = createRequire(import.meta.url)
    const file = require.resolve(`enigma.js/schemas/${ENGINE_SCHEMA_VERSION}.json`)
    cached = JSON.parse(readFileSync(file, 'utf8')) as SchemaFile
  }
  return cached
}

export function schemaMethod(struct: string, method: string): SchemaMethod | undefined {
  return schema().structs[struct]?.[method]
}

export function isSchemaStruct(name: string): boolean {
  return Object.hasOwn(schema().structs, name)
}
