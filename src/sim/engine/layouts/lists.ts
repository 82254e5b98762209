import type { EngineApp, EngineBookmark, EngineField, EngineLibraryItem, EngineProperties } from '../backend.js'
import { evaluateQData } from './pointer.js'
import { allTrees, layoutFromProperties, metaOf } from './objects.js'

type Def = Record<string, unknown>
type ListBuilder = (app: EngineApp, def: Def) => Record<string, unknown>

/**
 * The list definitions a session object may carry (QLIK-PROTOCOLS §2.5.2) and how each becomes
 * a layout member: `qXxxListDef` in the properties → `qXxxList: { qItems }` in the layout.
 */
const LIST_BUILDERS: Record<string, { layoutKey: string; build: ListBuilder }> = {
  qAppObjectListDef: { layoutKey: 'qAppObjectList', build: appObjectItems },
  qDimensionListDef: { layoutKey: 'qDimensionList', build: (app, def) => libraryItems(app.dimensions, def) },
  qMeasureListDef: { layoutKey: 'qMeasureList', build: (app, def) => libraryItems(app.measures, def) },
  qBookmarkListDef: { layoutKey: 'qBookmarkList', build: bookmarkItems },
  qMediaListDef: { layoutKey: 'qMediaList', build: (app) => ({ qItems: app.media.map((m) => ({ ...m })) }) },
  qFieldListDef: { layoutKey: 'qFieldList', build: fieldItems },
  qVariableListDef: { layoutKey: 'qVariableList', build: variableItems },
}

/** A session object's layout: its properties with each list definition replaced by the computed list. */
export function sessionObjectLayout(app: EngineApp, props: EngineProperties): Record<string, unknown> {
  const layout = layoutFromProperties(props)
  for (const [defKey, { layoutKey, build }] of Object.entries(LIST_BUILDERS)) {
    const def = props[defKey]
    if (typeof def !== 'object' || def === null) continue
    delete layout[defKey]
    layout[layoutKey] = build(app, def as Def)
  }
  return layout
}

function appObjectItems(app: EngineApp, def: Def): Record<string, unknown> {
  const items = allTrees(app)
    .filter((tree) => tree.qProperty.qInfo.qType === def['qType'])
    .map(({ qProperty }) => ({
      qInfo: qProperty.qInfo,
      qMeta: qProperty.qMetaDef ?? {},
      qData: evaluateQData(def['qData'], qProperty),
    }))
  return { qItems: items }
}

function libraryItems(items: EngineLibraryItem[], def: Def): Record<string, unknown> {
  return {
    qItems: items
      .filter((item) => def['qType'] === undefined || item.properties.qInfo.qType === def['qType'])
      .map((item) => ({
        qInfo: item.properties.qInfo,
        qMeta: metaOf(item),
        qData: evaluateQData(def['qData'], item.properties),
      })),
  }
}

function bookmarkItems(app: EngineApp, def: Def): Record<string, unknown> {
  // Snapshots are bookmarks of qType "snapshot"; Butler lists each kind with its own BookmarkList (§2.5.2 step 6).
  const pool: EngineBookmark[] = def['qType'] === 'snapshot' ? app.snapshots : app.bookmarks
  return libraryItems(pool, def)
}

function fieldItems(app: EngineApp, def: Def): Record<string, unknown> {
  const visible = (f: EngineField): boolean =>
    (def['qShowSystem'] === true || f.qIsSystem !== true) &&
    (def['qShowHidden'] === true || f.qIsHidden !== true) &&
    (def['qShowSemantic'] === true || f.qIsSemantic !== true)
  const items = app.fields.filter(visible).map((field) => {
    if (def['qShowSrcTables'] === true) return { ...field }
    const { qSrcTables: _srcTables, ...rest } = field
    return rest
  })
  return { qItems: items }
}

function variableItems(app: EngineApp, def: Def): Record<string, unknown> {
  const items = app.variables
    .filter(
      (v) =>
        (def['qShowReserved'] === true || v.isReserved !== true) &&
        (def['qShowConfig'] === true || v.isConfig !== true),
    )
    .map((v) => {
      const item: Record<string, unknown> = {
        qName: v.properties.qName,
        qDefinition: v.properties.qDefinition,
        qInfo: v.properties.qInfo,
        qMeta: v.properties.qMetaDef ?? {},
        qData: evaluateQData(def['qData'], v.properties),
      }
      if (v.isScriptCreated === true) item['qIsScriptCreated'] = true
      if (v.isReserved === true) item['qIsReserved'] = true
      if (v.isConfig === true) item['qIsConfig'] = true
      return item
    })
  return { qItems: items }
}
