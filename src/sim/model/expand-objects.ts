import { stableGuid } from '../ids.js'
import { parseScript } from '../script/parse-script.js'
import type { FixtureAppObjects, FixtureChildObject, FixtureGenericObject } from './fixture-types.js'
import type { SimAppObjects, SimGenericObject, SimLineageEntry } from './types.js'

/** Short fixture objects → engine-shaped objects (QLIK-PROTOCOLS §2.5.2 layout examples). */

function child(c: FixtureChildObject): SimGenericObject {
  return {
    id: c.id,
    type: c.type,
    meta: { title: c.title ?? '' },
    properties: {
      visualization: c.type,
      title: c.title ?? '',
      qHyperCubeDef: {
        qDimensions: (c.dimensions ?? []).map((qLibraryId) => ({ qLibraryId })),
        qMeasures: (c.measures ?? []).map((qLibraryId) => ({ qLibraryId })),
      },
      ...c.properties,
    },
    children: [],
  }
}

function sheet(s: FixtureGenericObject, rank: number): SimGenericObject {
  const children = (s.children ?? []).map(child)
  return {
    id: s.id,
    type: s.type ?? 'sheet',
    meta: { title: s.title ?? '', description: s.description ?? '', published: false, approved: false },
    properties: {
      rank,
      columns: 24,
      rows: 12,
      cells: children.map((c, i) => ({
        name: c.id,
        type: c.type,
        col: (i % 2) * 12,
        row: Math.floor(i / 2) * 6,
        colspan: 12,
        rowspan: 6,
      })),
      qChildListDef: { qData: { title: '/title' } },
      ...s.properties,
    },
    children,
  }
}

function story(s: FixtureGenericObject, rank: number): SimGenericObject {
  const slides = (s.children ?? []).map(child)
  return {
    id: s.id,
    type: s.type ?? 'story',
    meta: { title: s.title ?? '', description: s.description ?? '', published: false, approved: false },
    properties: {
      rank,
      thumbnail: { qStaticContentUrlDef: {} },
      qChildListDef: { qData: { title: '/title' } },
      ...s.properties,
    },
    children: slides,
  }
}

function masterObject(m: FixtureChildObject): SimGenericObject {
  const base = child(m)
  return { ...base, type: 'masterobject', meta: { title: m.title ?? '', description: '', tags: [] } }
}

function appProps(s: FixtureGenericObject): SimGenericObject {
  return {
    id: s.id,
    type: 'appprops',
    meta: {},
    properties: {
      sheetTitleBgColor: '#ffffff',
      sheetTitleColor: '#404040',
      sheetLogoPosition: 'left',
      ...s.properties,
    },
    children: [],
  }
}

export function expandAppObjects(
  appId: string,
  input: FixtureAppObjects | undefined,
  defaultDate: string,
): SimAppObjects {
  const o = input ?? {}
  return {
    sheets: (o.sheets ?? []).map((s, i) => sheet(s, i)),
    stories: (o.stories ?? []).map((s, i) => story(s, i)),
    masterobjects: (o.masterobjects ?? []).map(masterObject),
    appprops: (o.appprops ?? [{ id: stableGuid(`${appId}:appprops`).slice(0, 6) }]).map(appProps),
    dimensions: (o.dimensions ?? []).map((d) => {
      const fields = d.fields ?? (d.field ? [d.field] : [d.title])
      return {
        id: d.id,
        title: d.title,
        description: d.description ?? '',
        grouping: fields.length > 1 ? 'H' : 'N',
        fieldDefs: fields,
        fieldLabels: fields,
        tags: d.tags ?? [],
      }
    }),
    measures: (o.measures ?? []).map((m) => ({
      id: m.id,
      title: m.title,
      description: m.description ?? '',
      label: m.label ?? m.title,
      expression: m.expression,
      grouping: 'N',
      tags: m.tags ?? [],
    })),
    bookmarks: (o.bookmarks ?? []).map((b) => ({
      id: b.id,
      kind: 'bookmark',
      title: b.title,
      description: b.description ?? '',
      selections: Object.entries(b.selections ?? {}).map(([field, values]) => ({ field, values })),
      sourceObjectId: null,
      createdDate: defaultDate,
    })),
    snapshots: (o.snapshots ?? []).map((s) => ({
      id: s.id,
      kind: 'snapshot',
      title: s.title,
      description: s.description ?? '',
      selections: [],
      sourceObjectId: s.object,
      createdDate: defaultDate,
    })),
    variables: (o.variables ?? []).map((v) => ({
      id: v.id ?? stableGuid(`${appId}:variable:${v.name}`),
      name: v.name,
      definition: v.definition,
      comment: v.comment ?? '',
      isScriptCreated: v.scriptCreated ?? false,
      isReserved: v.reserved ?? false,
      isConfig: v.config ?? false,
    })),
    connections: (o.connections ?? []).map((c) => ({
      id: c.id ?? stableGuid(`connection:${c.name}`),
      name: c.name,
      connectionString: c.connectionString,
      type: c.type ?? 'folder',
      modifiedDate: c.modifiedDate ?? defaultDate,
    })),
    fields: (o.fields ?? []).map((f) => ({
      name: f.name,
      cardinal: f.cardinal ?? 0,
      tags: f.tags ?? ['$ascii', '$text'],
      srcTables: f.tables ?? [],
      isSystem: f.system ?? false,
      isHidden: f.hidden ?? false,
    })),
    media: o.media ?? [],
  }
}

/** §2.5.2 GetLineage: one entry per FROM source, INLINE and RESIDENT load, and LIB CONNECT. */
export function deriveLineage(script: string): SimLineageEntry[] {
  const entries: SimLineageEntry[] = []
  for (const st of parseScript(script)) {
    if (st.fromPath) entries.push({ discriminator: st.fromPath, statement: st.text.replace(/^[\w ]+:\s*/, '') })
    else if (st.isInline) entries.push({ discriminator: 'INLINE', statement: '' })
    else if (st.isResident) entries.push({ discriminator: 'RESIDENT', statement: '' })
    else if (st.connectTo) entries.push({ discriminator: st.connectTo, statement: '' })
  }
  return entries
}
