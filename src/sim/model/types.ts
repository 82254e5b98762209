/**
 * The simulator's one in-memory model (QLIK-PROTOCOLS §4.1). The QRS face serialises it into QRS
 * entities (§1.10), the Engine face reads apps and their objects from it, and the task state machine
 * writes execution sessions and results into it.
 */

/** Audit fields every QRS entity carries (§1.10). */
export interface Audit {
  createdDate: string
  modifiedDate: string
  modifiedByUserName: string
}

export interface SimTag extends Audit {
  id: string
  name: string
}

export interface SimCustomPropertyDefinition extends Audit {
  id: string
  name: string
  valueType: string
  choiceValues: string[]
  /** e.g. `App`, `ReloadTask`, `ExternalProgramTask`, `User`, `Stream` (§1.10 f). */
  objectTypes: string[]
  description: string
}

/** A custom property value attached to an entity (§1.10 a, `CustomPropertyValue`). */
export interface SimCustomPropertyValue extends Audit {
  id: string
  definitionId: string
  value: string
}

export interface SimUserAttribute extends Audit {
  id: string
  attributeType: string
  attributeValue: string
  externalId: string
}

export interface SimUser extends Audit {
  id: string
  userId: string
  userDirectory: string
  userDirectoryConnectorName: string
  name: string
  roles: string[]
  attributes: SimUserAttribute[]
  inactive: boolean
  removedExternally: boolean
  blacklisted: boolean
  deleteProhibited: boolean
  tagIds: string[]
  customProperties: SimCustomPropertyValue[]
}

export interface SimStream extends Audit {
  id: string
  name: string
  ownerId: string | null
  tagIds: string[]
  customProperties: SimCustomPropertyValue[]
}

export interface SimNode extends Audit {
  id: string
  name: string
  /** Short host name: the datagram's `%hostname` and `executingNodeName` (§3.3). */
  hostName: string
  isCentral: boolean
}

/* ---- engine objects (§2.5.2), kept in engine vocabulary so the Engine face can serve them directly ---- */

/** A sheet, story, master object, appprops object or a child visualisation. */
export interface SimGenericObject {
  id: string
  /** `qInfo.qType`: sheet, story, masterobject, appprops, barchart, ... */
  type: string
  /** `qMeta` / `qMetaDef` (title, description, published, approved ...). */
  meta: Record<string, unknown>
  /** The rest of the property tree (without qInfo, qMetaDef and children). */
  properties: Record<string, unknown>
  children: SimGenericObject[]
}

export interface SimDimension {
  id: string
  title: string
  description: string
  grouping: 'N' | 'H' | 'C'
  fieldDefs: string[]
  fieldLabels: string[]
  tags: string[]
}

export interface SimMeasure {
  id: string
  title: string
  description: string
  label: string
  expression: string
  grouping: 'N'
  tags: string[]
}

export interface SimBookmarkFieldSelection {
  field: string
  values: string[]
}

/** Bookmarks and snapshots share the engine's GenericBookmark class (§2.5.2 steps 5-6). */
export interface SimBookmark {
  id: string
  kind: 'bookmark' | 'snapshot'
  title: string
  description: string
  selections: SimBookmarkFieldSelection[]
  /** Snapshot only: the visualisation it captured. */
  sourceObjectId: string | null
  createdDate: string
}

export interface SimVariable {
  id: string
  name: string
  definition: string
  comment: string
  isScriptCreated: boolean
  isReserved: boolean
  isConfig: boolean
}

export interface SimConnection {
  id: string
  name: string
  connectionString: string
  type: string
  modifiedDate: string
}

export interface SimField {
  name: string
  cardinal: number
  tags: string[]
  srcTables: string[]
  isSystem: boolean
  isHidden: boolean
}

export interface SimLineageEntry {
  discriminator: string
  statement: string
}

export interface SimAppObjects {
  sheets: SimGenericObject[]
  stories: SimGenericObject[]
  masterobjects: SimGenericObject[]
  appprops: SimGenericObject[]
  dimensions: SimDimension[]
  measures: SimMeasure[]
  bookmarks: SimBookmark[]
  snapshots: SimBookmark[]
  variables: SimVariable[]
  connections: SimConnection[]
  fields: SimField[]
  /** `qUrlDef` values, e.g. `/media/Logo/logo.png`. */
  media: string[]
}

export interface SimApp extends Audit {
  id: string
  name: string
  description: string
  ownerId: string
  streamId: string | null
  publishTime: string
  fileSize: number
  lastReloadTime: string
  savedInProductVersion: string
  migrationHash: string
  thumbnail: string
  dynamicColor: string
  availabilityStatus: number
  tagIds: string[]
  customProperties: SimCustomPropertyValue[]
  /** The load script the script runner executes (§4.6). */
  script: string
  hasSectionAccess: boolean
  objects: SimAppObjects
  lineage: SimLineageEntry[]
}

/* ---- tasks and executions (§1.7, §1.9, §4.5) ---- */

/** §1.9 taskType: 0 reload, 1 external program, 2 user sync, 3 distribute, 4 preload. */
export type TaskType = 0 | 1 | 2 | 3 | 4

export const TASK_TYPE = { reload: 0, externalProgram: 1, userSync: 2, distribute: 3, preload: 4 } as const

export type TaskOutcome = 'success' | 'fail' | 'abort'

/** What the next run of a task does (§4.1 `behaviour`; set from the fixture or the control API). */
export interface TaskBehaviour {
  outcome: TaskOutcome
  durationMs: number
  /** 1-based script line that fails (reload/preload); defaults to the first failing statement. */
  failLine?: number
  errorText?: string
  /** Fail this many attempts, then succeed (needs maxRetries >= this). */
  retriesBeforeSuccess?: number
  /** outcome 'abort': who aborts (`DIR\user`). */
  abortUser?: string
  /** Distribute: time spent in DistributionQueue (13) and DistributionRunning (14). */
  distributionQueueMs?: number
}

export interface SimTask extends Audit {
  id: string
  name: string
  taskType: TaskType
  appId: string | null
  enabled: boolean
  maxRetries: number
  taskSessionTimeout: number
  isManuallyTriggered: boolean
  isPartialReload: boolean
  timeToLive: number
  preloadNodeIds: string[]
  tagIds: string[]
  customProperties: SimCustomPropertyValue[]
  behaviour: TaskBehaviour
  /** Chain: start this task when any of these task ids finishes successfully (composite trigger). */
  startAfterSuccessOf: string[]
  /** External program only. */
  path: string
  parameters: string
  /** User sync only: the user directory it synchronises. */
  userDirectory: string
  operationalId: string
  nextExecution: string
  /** Latest ExecutionResult id, or null for a never-run task. */
  lastExecutionResultId: string | null
}

/** §1.9 TaskExecutionStatus. */
export const TASK_STATUS = {
  NeverStarted: 0,
  Triggered: 1,
  Started: 2,
  Queued: 3,
  AbortInitiated: 4,
  Aborting: 5,
  Aborted: 6,
  FinishedSuccess: 7,
  FinishedFail: 8,
  Skipped: 9,
  Retry: 10,
  Error: 11,
  Reset: 12,
  DistributionQueue: 13,
  DistributionRunning: 14,
} as const

export type TaskStatus = (typeof TASK_STATUS)[keyof typeof TASK_STATUS]

/** §1.9 ExecutionResultDetail.detailsType: 0 Error, 1 Warning, 2 Information. */
export interface SimExecutionDetail {
  id: string
  detailsType: 0 | 1 | 2
  message: string
  detailCreatedDate: string
}

/** One attempt of one execution session (§1.7: one ExecutionResult per attempt). */
export interface SimExecutionResult extends Audit {
  id: string
  taskId: string
  executionId: string
  appId: string | null
  executingNodeId: string
  executingNodeName: string
  status: TaskStatus
  startTime: string
  stopTime: string
  duration: number
  fileReferenceId: string
  scriptLogAvailable: boolean
  scriptLogSize: number
  details: SimExecutionDetail[]
  /** The stored log text (CRLF); undefined until the run wrote one. */
  scriptLog?: string
  /** Epoch ms when the run finished; drives the "download too early" fault (§1.8). */
  finishedAtMs?: number
}

/** A running execution (`GET /qrs/executionsession/{id}`: 200 while running, 404 once finished). */
export interface SimExecutionSession extends Audit {
  id: string
  taskId: string
  resultIds: string[]
  /** `DIR\user` who started it: the datagram's User field (§3.3). */
  user: string
}

export interface SimSiteInfo {
  /** Engine component version (`EngineVersion`, `savedInProductVersion`). */
  engineVersion: string
  /** Fake process id written into script logs. */
  processId: number
  /** Paths that the script runner reports as missing (§4.6 failure trigger 2). */
  missingFiles: string[]
}
