import type { EngineSession } from './session.js'
import type { QixDoc, QixGenericObject } from './qix.js'

/** The full metadata dump, keyed exactly like Butler's `GET /v4/app/:appId/dump` (QLIK-PROTOCOLS §2.5.2). */
export interface AppDump {
  appId: string
  properties: Record<string, unknown>
  loadScript: string
  lineage?: unknown[]
  sheets: unknown[]
  stories: unknown[]
  masterobjects: unknown[]
  appprops: unknown[]
  dimensions: unknown[]
  measures: unknown[]
  bookmarks: unknown[]
  embeddedmedia: unknown[]
  snapshots: unknown[]
  fields: unknown[]
  dataconnections: unknown[]
  variables: unknown[]
}

type Item = { qInfo: { qId: string }; [key: string]: unknown }

/**
 * Reads everything of §2.5.2 in parallel on one socket, as Butler does. The bookmark and snapshot
 * lists both ask for qId `BookmarkList`; the engine renames the second (step 6).
 */
export async function readAppDump(s: EngineSession, doc: QixDoc, appId: string): Promise<AppDump> {
  const c = s.call.bind(s)
  const listItems = async (props: Record<string, unknown>, listKey: string): Promise<Item[]> => {
    const list = await c('CreateSessionObject', doc.createSessionObject(props))
    const layout = await c('GetLayout', list.getLayout())
    return (layout[listKey] as { qItems?: Item[] } | undefined)?.qItems ?? []
  }
  const appObjects = async (type: string): Promise<unknown[]> => {
    const items = await listItems(
      {
        qAppObjectListDef: { qType: type, qData: { id: '/qInfo/qId' } },
        qInfo: { qId: `${type}List`, qType: `${type}List` },
        qMetaDef: {},
        qExtendsId: '',
      },
      'qAppObjectList',
    )
    return Promise.all(
      items.map(async (item) => {
        const object: QixGenericObject = await c('GetObject', doc.getObject(item.qInfo.qId))
        return c('GetFullPropertyTree', object.getFullPropertyTree())
      }),
    )
  }
  const library = (def: string, qType: string, qId: string) =>
    listItems({ [def]: { qType, qData: { info: '/qDimInfos' }, qMeta: {} }, qInfo: { qId, qType: qId } }, `q${qId}`)

  const [properties, loadScript, lineage, sheets, stories, masterobjects, appprops] = await Promise.all([
    c('GetAppProperties', doc.getAppProperties()),
    c('GetScript', doc.getScript()),
    // §2.5.2 step 1: lineage errors are swallowed and the key left out.
    c('GetLineage', doc.getLineage()).catch(() => undefined),
    appObjects('sheet'),
    appObjects('story'),
    appObjects('masterobject'),
    appObjects('appprops'),
  ])
  const [dimensions, measures, bookmarks, snapshots, embeddedmedia, fields, dataconnections, variables] =
    await Promise.all([
      library('qDimensionListDef', 'dimension', 'DimensionList').then((items) =>
        Promise.all(
          items.map(async (i) =>
            c('GetProperties', (await c('GetDimension', doc.getDimension(i.qInfo.qId))).getProperties()),
          ),
        ),
      ),
      library('qMeasureListDef', 'measure', 'MeasureList').then((items) =>
        Promise.all(
          items.map(async (i) =>
            c('GetProperties', (await c('GetMeasure', doc.getMeasure(i.qInfo.qId))).getProperties()),
          ),
        ),
      ),
      library('qBookmarkListDef', 'bookmark', 'BookmarkList').then((items) =>
        Promise.all(items.map((i) => bookmarkWithState(s, doc, i.qInfo.qId))),
      ),
      library('qBookmarkListDef', 'snapshot', 'BookmarkList').then((items) =>
        Promise.all(
          items.map(async (i) =>
            c('GetProperties', (await c('GetBookmark', doc.getBookmark(i.qInfo.qId))).getProperties()),
          ),
        ),
      ),
      listItems({ qInfo: { qId: 'mediaList', qType: 'MediaList' }, qMediaListDef: {} }, 'qMediaList').then((items) =>
        items.filter((m) => typeof m['qUrlDef'] === 'string' && m['qUrlDef'].startsWith('/media/')),
      ),
      listItems(
        {
          qInfo: { qId: 'FieldList', qType: 'FieldList' },
          qFieldListDef: { qShowSystem: true, qShowHidden: true, qShowSrcTables: true, qShowSemantic: true },
        },
        'qFieldList',
      ),
      c('GetConnections', doc.getConnections()).then((list) =>
        Promise.all(list.map((conn) => c('GetConnection', doc.getConnection(conn.qId)))),
      ),
      listItems(
        {
          qInfo: { qId: 'VariableList', qType: 'VariableList' },
          qVariableListDef: {
            qType: 'variable',
            qShowReserved: true,
            qShowConfig: true,
            qData: { info: '/qDimInfos' },
            qMeta: {},
          },
        },
        'qVariableList',
      ).then((items) => Promise.all(items.map((i) => variableWithFlags(s, doc, i)))),
    ])
  return {
    appId,
    properties,
    loadScript,
    ...(lineage === undefined ? {} : { lineage }),
    sheets,
    stories,
    masterobjects,
    appprops,
    dimensions,
    measures,
    bookmarks,
    embeddedmedia,
    snapshots,
    fields,
    dataconnections,
    variables,
  }
}

/** §2.5.2 step 5: Butler copies `layout.qBookmark` into `properties.qData.qBookMark`. */
async function bookmarkWithState(s: EngineSession, doc: QixDoc, id: string): Promise<Record<string, unknown>> {
  const bookmark = await s.call('GetBookmark', doc.getBookmark(id))
  const [properties, layout] = await Promise.all([
    s.call('GetProperties', bookmark.getProperties()),
    s.call('GetLayout', bookmark.getLayout()),
  ])
  const qData = { ...(properties['qData'] as Record<string, unknown> | undefined), qBookMark: layout['qBookmark'] }
  return { ...properties, qData }
}

/** §2.5.2 step 10: the list item's script/reserved/config flags travel with the properties. */
async function variableWithFlags(s: EngineSession, doc: QixDoc, item: Item): Promise<Record<string, unknown>> {
  const variable = await s.call('GetVariableById', doc.getVariableById(item.qInfo.qId))
  const properties = await s.call('GetProperties', variable.getProperties())
  const flags: Record<string, unknown> = {}
  for (const key of ['qIsScriptCreated', 'qIsReserved', 'qIsConfig'])
    if (item[key] !== undefined) flags[key] = item[key]
  return { ...properties, ...flags }
}
