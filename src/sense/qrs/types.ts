/**
 * QRS entity shapes as QLIK-PROTOCOLS §1.10 shows them (field sets from the QRS reference). Fields we do
 * not rely on are typed loosely; anything not listed still arrives at runtime and is kept.
 */

/** "None" in QRS: no file reference, a task that did not start (QLIK-PROTOCOLS §1.5). */
export const EMPTY_GUID = '00000000-0000-0000-0000-000000000000'

/** TaskExecutionStatus, QLIK-PROTOCOLS §1.9. */
export const TaskExecutionStatus = {
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
export type TaskExecutionStatus = (typeof TaskExecutionStatus)[keyof typeof TaskExecutionStatus]

/** taskType, QLIK-PROTOCOLS §1.9 (4 = Preload comes from Butler, not the QRS reference). */
export const TaskType = { Reload: 0, ExternalProgram: 1, UserSync: 2, Distribute: 3, Preload: 4 } as const
export type TaskType = (typeof TaskType)[keyof typeof TaskType]

/** ExecutionResultDetail.detailsType. */
export const DetailsType = { Error: 0, Warning: 1, Information: 2 } as const

interface EntityStamp {
  id: string
  createdDate?: string
  modifiedDate?: string
  modifiedByUserName?: string
  privileges?: string[] | null
  schemaPath?: string
}

export interface TagCondensed {
  id: string
  name: string
  privileges?: string[] | null
}

export interface Tag extends EntityStamp {
  name: string
}

export interface CustomPropertyDefinitionCondensed {
  id: string
  name: string
  valueType: string
  choiceValues: string[]
  privileges?: string[] | null
}

export interface CustomPropertyDefinition extends EntityStamp {
  name: string
  valueType: string
  choiceValues: string[]
  objectTypes: string[]
  description?: string
}

export interface CustomPropertyValue extends EntityStamp {
  value: string
  definition: CustomPropertyDefinitionCondensed
}

export interface ExecutionResultDetail {
  id: string
  detailsType: number
  message: string
  detailCreatedDate: string
  privileges?: string[] | null
}

/** The form inside `operational.lastExecutionResult`: no taskID/executionID/appID (QLIK-PROTOCOLS §1.10 c). */
export interface ExecutionResultCondensed {
  id: string
  executingNodeName: string
  status: TaskExecutionStatus
  startTime: string
  stopTime: string
  duration: number
  fileReferenceID: string
  scriptLogAvailable: boolean
  details: ExecutionResultDetail[]
  scriptLogLocation?: string
  scriptLogSize?: number
  privileges?: string[] | null
}

export interface ExecutionResult extends ExecutionResultCondensed, EntityStamp {
  taskID: string
  executionID: string
  appID: string
  executingNodeID: string
}

export interface TaskOperational {
  id: string
  lastExecutionResult: ExecutionResultCondensed
  nextExecution: string
  privileges?: string[] | null
}

export interface StreamCondensed {
  id: string
  name: string
  privileges?: string[] | null
}

export interface UserCondensed {
  id: string
  userId: string
  userDirectory: string
  userDirectoryConnectorName?: string
  name: string
  privileges?: string[] | null
}

export interface AppCondensed {
  id: string
  name: string
  appId?: string
  publishTime?: string
  published?: boolean
  stream?: StreamCondensed | null
  savedInProductVersion?: string
  migrationHash?: string
  availabilityStatus?: number
  privileges?: string[] | null
}

export interface App extends AppCondensed, EntityStamp {
  customProperties: CustomPropertyValue[]
  owner: UserCondensed
  tags: TagCondensed[]
  description?: string
  fileSize?: number
  lastReloadTime?: string
  sourceAppId?: string
  targetAppId?: string
  thumbnail?: string
  dynamicColor?: string
}

/** `GET /qrs/task?filter=` (condensed), QLIK-PROTOCOLS §1.10 b. */
export interface TaskCondensed {
  id: string
  name: string
  taskType?: TaskType
  enabled?: boolean
  maxRetries?: number
  taskSessionTimeout?: number
  privileges?: string[] | null
}

/** Full task: `task/full` elements and `reloadtask/{id}` (QLIK-PROTOCOLS §1.10 a-b). Butler defaults taskType to 0. */
export interface Task extends TaskCondensed, EntityStamp {
  tags: TagCondensed[]
  customProperties: CustomPropertyValue[]
  operational?: TaskOperational
  /** Absent or null for user-sync and distribute tasks. */
  app?: AppCondensed | null
  isManuallyTriggered?: boolean
}

export interface ReloadTask extends Task {
  app: AppCondensed | null
  operational: TaskOperational
  isPartialReload?: boolean
  timeToLive?: number
  preloadNodes?: unknown[]
}

/** `GET /qrs/executionsession/{id}` while running (shape partly unconfirmed, QLIK-PROTOCOLS §1.7). */
export interface ExecutionSession {
  id: string
  reloadTask?: TaskCondensed | null
  externalProgramTask?: TaskCondensed | null
  userSyncTask?: TaskCondensed | null
  app?: AppCondensed | null
  executionResult?: ExecutionResultCondensed | null
  taskSessionTimeout?: number
  [field: string]: unknown
}

export interface UserAttribute {
  id: string
  attributeType: string
  attributeValue: string
  externalId?: string
  createdDate?: string
  modifiedDate?: string
  schemaPath?: string
}

export interface User extends EntityStamp {
  userId: string
  userDirectory: string
  userDirectoryConnectorName?: string
  name: string
  roles: string[]
  attributes: UserAttribute[]
  customProperties: CustomPropertyValue[]
  tags: TagCondensed[]
  inactive?: boolean
  removedExternally?: boolean
  blacklisted?: boolean
  deleteProhibited?: boolean
}

/** `GET /qrs/about`: used as a health check; the fields vary between releases. */
export interface QrsAbout {
  buildVersion?: string
  buildDate?: string
  databaseProvider?: string
  nodeType?: number
  sharedPersistence?: boolean
  requiresBootstrap?: boolean
  singleNodeOnly?: boolean
  schemaPath?: string
  [field: string]: unknown
}

/** The `{"value": …}` wrapper of start/synchronous, scriptlog references and counts. */
export interface QrsValue<T> {
  value: T
}
