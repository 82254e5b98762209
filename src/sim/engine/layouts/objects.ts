import type {
  EngineApp,
  EngineBookmark,
  EngineLibraryItem,
  EngineProperties,
  EnginePropertyTree,
  EngineVariable,
} from '../backend.js'

/** Every app object tree, top-level and nested, searchable by id (GetObject accepts children too). */
export function findTree(app: EngineApp, id: string): EnginePropertyTree | undefined {
  const stack = [...app.sheets, ...app.stories, ...app.masterobjects, ...app.appprops]
  for (let tree = stack.pop(); tree !== undefined; tree = stack.pop()) {
    if (tree.qProperty.qInfo.qId === id) return tree
    stack.push(...tree.qChildren)
  }
  return undefined
}

export function allTrees(app: EngineApp): EnginePropertyTree[] {
  return [...app.sheets, ...app.stories, ...app.masterobjects, ...app.appprops]
}

/** GetFullPropertyTree's `qPropEntry`; the engine always sends `qEmbeddedSnapshotRef`. */
export function fullPropertyTree(tree: EnginePropertyTree): EnginePropertyTree {
  return {
    qProperty: tree.qProperty,
    qChildren: tree.qChildren.map(fullPropertyTree),
    qEmbeddedSnapshotRef: tree.qEmbeddedSnapshotRef ?? null,
  }
}

/**
 * A generic layout from properties: `qMetaDef` becomes `qMeta`, definitions stay as given.
 * Good enough for objects whose layout no client inspects beyond qInfo/qMeta (§2.4).
 */
export function layoutFromProperties(props: EngineProperties): Record<string, unknown> {
  const { qMetaDef, ...rest } = props
  return { ...rest, qMeta: qMetaDef ?? {}, qSelectionInfo: {} }
}

/** An app object's layout: its children appear as `qChildList` items (the engine's child list). */
export function appObjectLayout(tree: EnginePropertyTree): Record<string, unknown> {
  const { qChildListDef: _childListDef, ...props } = tree.qProperty
  const items = tree.qChildren.map((child) => ({ qInfo: child.qProperty.qInfo, qData: {} }))
  return { ...layoutFromProperties(props as EngineProperties), qChildList: { qItems: items } }
}

export function libraryLayout(item: EngineLibraryItem | EngineBookmark): Record<string, unknown> {
  return item.layout ?? layoutFromProperties(item.properties)
}

/** GenericVariable layout: its properties plus the text value (the definition, unevaluated). */
export function variableLayout(variable: EngineVariable): Record<string, unknown> {
  return { ...layoutFromProperties(variable.properties), qText: variable.properties.qDefinition }
}

export function metaOf(item: {
  properties: EngineProperties
  meta?: Record<string, unknown>
}): Record<string, unknown> {
  return item.meta ?? item.properties.qMetaDef ?? {}
}
