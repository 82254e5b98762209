/**
 * The contract between the simulator's Engine face and whatever holds the simulated site.
 *
 * The face (src/sim/engine/**) only speaks QIX JSON-RPC; it owns no state beyond one socket's
 * session. Everything it serves comes from an `EngineBackend`, which the simulator model adapts to.
 * Shapes below are the engine's own (QLIK-PROTOCOLS §2.4, §2.5.2): the face passes them through
 * verbatim, so the adapter decides every value a client sees.
 */

/** NxInfo: `qType` here is the *generic* type (sheet, dimension, …), not an enigma struct name. */
export interface NxInfo {
  qId: string
  qType: string
}

/** Generic properties of any engine object: always carries `qInfo`; the rest is free-form. */
export interface EngineProperties {
  qInfo: NxInfo
  qMetaDef?: Record<string, unknown>
  [key: string]: unknown
}

/** GenericObject.GetFullPropertyTree → `qPropEntry` (QLIK-PROTOCOLS §2.5.2 step 2). */
export interface EnginePropertyTree {
  qProperty: EngineProperties
  qChildren: EnginePropertyTree[]
  qEmbeddedSnapshotRef?: unknown
}

/**
 * A library entry (master dimension or measure): `properties` answers GetProperties.
 * `layout` answers GetLayout; when absent the face derives it from the properties.
 * `meta` fills the list item's `qMeta` (title, description, tags); when absent it comes from `qMetaDef`.
 */
export interface EngineLibraryItem {
  properties: EngineProperties
  layout?: Record<string, unknown>
  meta?: Record<string, unknown>
}

/** Bookmarks and snapshots: Butler copies `layout.qBookmark` into the dump (§2.5.2 step 5). */
export interface EngineBookmark {
  properties: EngineProperties
  layout: Record<string, unknown> & { qBookmark?: Record<string, unknown> }
  meta?: Record<string, unknown>
}

/** A variable: `properties` is GenericVariable.GetProperties (`qName`, `qDefinition`, `qComment`, …). */
export interface EngineVariable {
  properties: EngineProperties & { qName: string; qDefinition: string }
  isScriptCreated?: boolean
  isReserved?: boolean
  isConfig?: boolean
}

/** Doc.GetConnection → `qConnection`; also the element of GetConnections (§2.5.2). */
export interface EngineConnection {
  qId: string
  qName: string
  qConnectionString: string
  qType: string
  qModifiedDate?: string
  qMeta?: Record<string, unknown>
  [key: string]: unknown
}

/** An item of `qFieldList.qItems` (NxFieldDescription). */
export interface EngineField {
  qName: string
  qCardinal?: number
  qTags?: string[]
  qSrcTables?: string[]
  qIsSystem?: boolean
  qIsHidden?: boolean
  qIsSemantic?: boolean
  [key: string]: unknown
}

/** An item of `qMediaList.qItems`; Butler keeps only `qUrlDef` starting with `/media/`. */
export interface EngineMediaItem {
  qUrlDef: string
  qUrl: string
}

/** DocListEntry.qMeta for GetDocList (§2.4; contents unconfirmed, so the adapter decides). */
export type EngineDocMeta = Record<string, unknown>

/** Everything the Engine face can serve about one app. */
export interface EngineApp {
  id: string
  name: string
  /** `qMeta` of the DocListEntry and of GetAppLayout. */
  meta: EngineDocMeta
  /** ISO UTC with milliseconds; empty string for a never-reloaded app. */
  lastReloadTime: string
  readOnly?: boolean
  /** Doc.GetAppProperties → `qProp` (NxAppProperties). */
  properties: Record<string, unknown>
  script: string
  lineage: { qDiscriminator: string; qStatement: string }[]
  /** Full property trees, one per object, for AppObjectList of type sheet/story/masterobject/appprops. */
  sheets: EnginePropertyTree[]
  stories: EnginePropertyTree[]
  masterobjects: EnginePropertyTree[]
  appprops: EnginePropertyTree[]
  dimensions: EngineLibraryItem[]
  measures: EngineLibraryItem[]
  bookmarks: EngineBookmark[]
  snapshots: EngineBookmark[]
  variables: EngineVariable[]
  connections: EngineConnection[]
  fields: EngineField[]
  media: EngineMediaItem[]
}

export interface EngineReloadOptions {
  /** DoReload qMode: 0 default, 1 ABEND, 2 ignore errors (§2.4). */
  mode: number
  partial: boolean
  debug?: boolean
  /** The X-Qlik-User header of the session, verbatim (`UserDirectory=…; UserId=…`). */
  user?: string
  /** DoReloadEx qReloadId, when the client gave one. */
  reloadId?: string
  /** Fires on Global.CancelReload: the run stops and resolves with success false. */
  signal?: AbortSignal
}

/** One step of a running reload, folded by the face into GetProgress's `qProgressData`. */
export interface EngineReloadProgress {
  /** A line appended to `qPersistentProgress` (e.g. `Sales << sales_2021`). */
  persistent?: string
  /** Replaces `qTransientProgress` (e.g. `Lines fetched: 120,000`). */
  transient?: string
  /** A script error, appended to `qErrorData`. */
  error?: { qErrorString: string; qLine: string; qLineEnd?: string; qErrorDataCode?: number; qMessage?: unknown }
}

export interface EngineReloadResult {
  /** DoReload `qReturn` / DoReloadEx `qSuccess`. */
  success: boolean
  scriptLog: string
  /** DoReloadEx `qScriptLogFile`; the face invents a path when absent. */
  scriptLogFile?: string
  endedWithMemoryConstraint?: boolean
}

/** One JSON-RPC call as it arrived, for the control plane's request log (§4.7). */
export interface EngineCallRecord {
  face: 'engine'
  method: string
  handle: number
  params: unknown
  /** JSON-RPC id of the request. */
  id: number | string | null
  /** A per-socket session id, so tests can tell sockets apart. */
  session: string
  /** The upgrade path (`/`, `/app/engineData`, `/app/<id>`). */
  path: string
  /** X-Qlik-User header value, if any. */
  user?: string
  /** The app this socket had open when the call arrived (none before OpenDoc). */
  appId?: string
  at: string
}

/** Fault injection the face reads on every response (§4.7 `POST /__sim/faults`). */
export interface EngineFaults {
  /** Encode every `result` key as a JSON-Patch replace (§2.3.4). */
  deltaResponses?: boolean
  /** Delay every response by this much. */
  latencyMs?: number
}

export interface EngineBackend {
  listApps(): EngineApp[]
  getApp(id: string): EngineApp | undefined
  /**
   * Runs the app's script (§4.4: same runner as scheduled reloads). Resolves when done;
   * rejects only for infrastructure failures, never for a failing script.
   */
  reload(
    appId: string,
    opts: EngineReloadOptions,
    onProgress?: (p: EngineReloadProgress) => void,
  ): Promise<EngineReloadResult>
  /** DoSave: persists the last reload (§4.4: lastReloadTime changes only after DoSave). */
  save(appId: string): void
  /** Doc.SetScript; when absent the face answers -32601 for SetScript. */
  setScript?(appId: string, script: string): void
  record?(call: EngineCallRecord): void
  faults?(): EngineFaults
}
