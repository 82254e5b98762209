import type {
  EngineApp,
  EngineBookmark,
  EngineLibraryItem,
  EnginePropertyTree,
  EngineVariable,
} from '../engine/backend.js'
import type { SimModel } from '../model/store.js'
import type { SimApp, SimBookmark, SimGenericObject } from '../model/types.js'

/** Model app → the Engine face's view of it (QLIK-PROTOCOLS §2.4, §2.5.2 shapes). */

function tree(o: SimGenericObject): EnginePropertyTree {
  return {
    qProperty: { qInfo: { qId: o.id, qType: o.type }, qMetaDef: { ...o.meta }, ...o.properties },
    qChildren: o.children.map(tree),
    qEmbeddedSnapshotRef: null,
  }
}

/** Days since 1899-12-30, the engine's serial time for qUtcModifyTime. */
function serialTime(iso: string): number {
  return Math.round(((Date.parse(iso) - Date.UTC(1899, 11, 30)) / 86_400_000) * 100) / 100
}

function bookmark(b: SimBookmark): EngineBookmark {
  const meta = { title: b.title, description: b.description }
  const info = { qId: b.id, qType: b.kind }
  return {
    properties: { qInfo: info, qMetaDef: meta, ...(b.sourceObjectId ? { object: b.sourceObjectId } : {}) },
    layout: {
      qInfo: info,
      qMeta: meta,
      qBookmark: {
        qStateData: [
          {
            qStateName: '$',
            qFieldItems: b.selections.map((s) => ({
              qDef: { qName: s.field },
              qSelectInfo: { qTextSearch: '' },
              qValues: s.values.map((v) => ({ qText: v, qIsNumeric: false, qNumber: 0 })),
              qExcludedValues: [],
            })),
          },
        ],
        qUtcModifyTime: serialTime(b.createdDate),
        qUtcRecallTime: serialTime(b.createdDate),
      },
    },
  }
}

export function engineAppView(model: SimModel, app: SimApp): EngineApp {
  const stream = app.streamId ? model.streams.get(app.streamId) : undefined
  const o = app.objects
  const dimensions: EngineLibraryItem[] = o.dimensions.map((d) => ({
    properties: {
      qInfo: { qId: d.id, qType: 'dimension' },
      qDim: { qGrouping: d.grouping, qFieldDefs: [...d.fieldDefs], qFieldLabels: [...d.fieldLabels], title: d.title },
      qMetaDef: { title: d.title, description: d.description, tags: [...d.tags] },
    },
  }))
  const measures: EngineLibraryItem[] = o.measures.map((m) => ({
    properties: {
      qInfo: { qId: m.id, qType: 'measure' },
      qMeasure: { qLabel: m.label, qDef: m.expression, qGrouping: m.grouping, qExpressions: [], qActiveExpression: 0 },
      qMetaDef: { title: m.title, description: m.description, tags: [...m.tags] },
    },
  }))
  const variables: EngineVariable[] = o.variables.map((v) => ({
    properties: {
      qInfo: { qId: v.id, qType: 'variable' },
      qMetaDef: {},
      qName: v.name,
      qComment: v.comment,
      qDefinition: v.definition,
      qIncludeInBookmark: false,
    },
    isScriptCreated: v.isScriptCreated,
    isReserved: v.isReserved,
    isConfig: v.isConfig,
  }))
  return {
    id: app.id,
    name: app.name,
    meta: {
      createdDate: app.createdDate,
      modifiedDate: app.modifiedDate,
      published: app.streamId !== null,
      publishTime: app.publishTime,
      description: app.description,
      qFileSize: app.fileSize,
      dynamicColor: app.dynamicColor,
      stream: stream ? { id: stream.id, name: stream.name } : null,
    },
    lastReloadTime: app.lastReloadTime,
    properties: {
      qTitle: app.name,
      qLastReloadTime: app.lastReloadTime,
      qMigrationHash: app.migrationHash,
      qSavedInProductVersion: app.savedInProductVersion,
      qThumbnail: { qUrl: app.thumbnail },
      qHasSectionAccess: app.hasSectionAccess,
      description: app.description,
    },
    script: app.script,
    lineage: app.lineage.map((l) => ({ qDiscriminator: l.discriminator, qStatement: l.statement })),
    sheets: o.sheets.map(tree),
    stories: o.stories.map(tree),
    masterobjects: o.masterobjects.map(tree),
    appprops: o.appprops.map(tree),
    dimensions,
    measures,
    bookmarks: o.bookmarks.map(bookmark),
    snapshots: o.snapshots.map(bookmark),
    variables,
    connections: o.connections.map((c) => ({
      qId: c.id,
      qName: c.name,
      qConnectionString: c.connectionString,
      qType: c.type,
      qModifiedDate: c.modifiedDate,
      qMeta: { name: c.name },
    })),
    fields: o.fields.map((f) => ({
      qName: f.name,
      qCardinal: f.cardinal,
      qTags: [...f.tags],
      qSrcTables: [...f.srcTables],
      qIsSystem: f.isSystem,
      qIsHidden: f.isHidden,
    })),
    media: o.media.map((url) => ({ qUrlDef: url, qUrl: url })),
  }
}
