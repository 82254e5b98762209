import type { EngineApp } from '../backend.js'

/** A table of the data model, derived from the fields' source tables (NxFieldDescription.qSrcTables). */
export interface ModelTable {
  name: string
  fields: { name: string; cardinal: number; tags: string[] }[]
  rows: number
}

export function modelTables(app: EngineApp): ModelTable[] {
  const tables = new Map<string, ModelTable>()
  for (const field of app.fields) {
    if (field.qIsSystem) continue
    for (const table of field.qSrcTables ?? []) {
      const entry = tables.get(table) ?? { name: table, fields: [], rows: 0 }
      const cardinal = field.qCardinal ?? 0
      entry.fields.push({ name: field.qName, cardinal, tags: field.qTags ?? [] })
      // No row counts in the model: a table has at least as many rows as its widest field has values.
      entry.rows = Math.max(entry.rows, cardinal)
      tables.set(table, entry)
    }
  }
  return [...tables.values()]
}

/**
 * Doc.GetTablesAndKeys: `qtr` (TableRecord per table, FieldInTableData per field) and `qk`
 * (SourceKeyRecord per field shared by several tables), as the data model viewer reads them.
 */
export function tablesAndKeys(app: EngineApp): { qtr: unknown[]; qk: unknown[] } {
  const tables = modelTables(app)
  const tablesOf = new Map<string, string[]>()
  for (const t of tables) for (const f of t.fields) tablesOf.set(f.name, [...(tablesOf.get(f.name) ?? []), t.name])
  const qtr = tables.map((t, index) => ({
    qName: t.name,
    qLoose: false,
    qNoOfRows: t.rows,
    qFields: t.fields.map((f) => {
      const isKey = (tablesOf.get(f.name)?.length ?? 0) > 1
      return {
        qName: f.name,
        qOriginalFields: [],
        qPresent: true,
        qHasNull: false,
        qHasWild: false,
        qHasDuplicates: f.cardinal < t.rows,
        qIsSynthetic: false,
        qInformationDensity: 1,
        qnNonNulls: t.rows,
        qnRows: t.rows,
        qSubsetRatio: 1,
        qnTotalDistinctValues: f.cardinal,
        qnPresentDistinctValues: f.cardinal,
        qKeyType: isKey ? 'NOT_PRIMARY_KEY' : 'NOT_KEY',
        qComment: '',
        qTags: f.tags,
        qDerivedFields: [],
        qIsFieldOnTheFly: false,
        qReadableName: f.name,
      }
    }),
    qPos: { qx: index * 200, qy: 0 },
    qComment: '',
    qIsDirectDiscovery: false,
    qIsSynthetic: false,
    qTableTags: [],
    qProfilingData: {},
  }))
  const qk = [...tablesOf.entries()]
    .filter(([, names]) => names.length > 1)
    .map(([field, names]) => ({ qKeyFields: [field], qTables: names }))
  return { qtr, qk }
}
