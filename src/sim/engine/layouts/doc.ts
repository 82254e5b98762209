import type { EngineApp, EnginePropertyTree, NxInfo } from '../backend.js'

/** DocListEntry for GetDocList (QLIK-PROTOCOLS §2.4); size and time are 0 on Enterprise. */
export function docListEntry(app: EngineApp): Record<string, unknown> {
  return {
    qDocName: app.name,
    qConnectedUsers: 0,
    qFileTime: 0,
    qFileSize: 0,
    qDocId: app.id,
    qMeta: app.meta,
    qLastReloadTime: app.lastReloadTime,
    qReadOnly: app.readOnly ?? false,
    qTitle: app.name,
    qThumbnail: { qUrl: '' },
  }
}

/** Doc.GetAppLayout (§2.4; the field list is partial and unconfirmed). */
export function appLayout(app: EngineApp, openedWithoutData: boolean): Record<string, unknown> {
  return {
    qTitle: app.name,
    qFileName: app.id,
    qLastReloadTime: app.lastReloadTime,
    qModified: false,
    qHasScript: app.script !== '',
    qStateNames: [],
    qMeta: app.meta,
    qLocaleInfo: {},
    qHasData: app.lastReloadTime !== '' && !openedWithoutData,
    qReadOnly: app.readOnly ?? false,
    qIsOpenedWithoutData: openedWithoutData,
    qThumbnail: { qUrl: '' },
  }
}

/** Every persisted generic object of the app (Doc.GetAllInfos). Script variables are not objects. */
export function allInfos(app: EngineApp): NxInfo[] {
  const trees = [...app.sheets, ...app.stories, ...app.masterobjects, ...app.appprops]
  return [
    ...trees.flatMap(treeInfos),
    ...[...app.dimensions, ...app.measures, ...app.bookmarks, ...app.snapshots].map((i) => i.properties.qInfo),
    ...app.variables.filter((v) => v.isScriptCreated !== true).map((v) => v.properties.qInfo),
  ].map(({ qId, qType }) => ({ qId, qType }))
}

function treeInfos(tree: EnginePropertyTree): NxInfo[] {
  return [tree.qProperty.qInfo, ...tree.qChildren.flatMap(treeInfos)]
}
