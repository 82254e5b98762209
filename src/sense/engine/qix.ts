/**
 * The slice of the QIX API sensebus calls, typed by hand: enigma.js generates these objects from
 * the schema at run time and ships no method types. Names and result shapes follow
 * QLIK-PROTOCOLS §2.4 (after enigma unwraps `qReturn` / the single out-param).
 */
export interface QixPromise<T> extends Promise<T> {
  /** enigma adds the JSON-RPC id of the request, which GetProgress takes (§2.4). */
  requestId?: number
}

export interface QixProgressData {
  qStarted: boolean
  qFinished: boolean
  qMillisecs: number
  qPersistentProgress: string
  qTransientProgress: string
  qErrorData?: { qErrorString: string; qLine?: string; qErrorDataCode?: number; qMessage?: unknown }[]
}

export interface QixGlobal {
  engineVersion(): Promise<{ qComponentVersion: string }>
  getDocList(): Promise<QixDocListEntry[]>
  openDoc(appId: string, user?: string, password?: string, serial?: string, noData?: boolean): Promise<QixDoc>
  getProgress(requestId: number): Promise<QixProgressData>
  cancelReload(): Promise<unknown>
}

export interface QixDocListEntry {
  qDocId: string
  qDocName: string
  qLastReloadTime?: string
  qMeta?: Record<string, unknown>
  qReadOnly?: boolean
  qTitle?: string
}

export type QixObjectRef = { id: string; handle: number }

export interface QixDoc extends QixObjectRef {
  doReload(mode?: number, partial?: boolean, debug?: boolean): QixPromise<boolean>
  doSave(fileName?: string): Promise<unknown>
  getScript(): Promise<string>
  getAppProperties(): Promise<Record<string, unknown>>
  getLineage(): Promise<unknown[]>
  createSessionObject(props: Record<string, unknown>): Promise<QixGenericObject>
  getObject(id: string): Promise<QixGenericObject>
  getDimension(id: string): Promise<QixLibraryObject>
  getMeasure(id: string): Promise<QixLibraryObject>
  getBookmark(id: string): Promise<QixLibraryObject>
  getVariableById(id: string): Promise<QixLibraryObject>
  getConnections(): Promise<{ qId: string }[]>
  getConnection(id: string): Promise<Record<string, unknown>>
}

export interface QixGenericObject extends QixObjectRef {
  getLayout(): Promise<Record<string, unknown>>
  getProperties(): Promise<Record<string, unknown>>
  getFullPropertyTree(): Promise<Record<string, unknown>>
}

export interface QixLibraryObject extends QixObjectRef {
  getLayout(): Promise<Record<string, unknown>>
  getProperties(): Promise<Record<string, unknown>>
}
