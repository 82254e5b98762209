/**
 * The fixture file format (YAML or JSON). Terse on purpose: references by name, defaults for every
 * audit field, engine objects in short form. `load-fixture.ts` expands it into the model.
 */

export type FixtureCustomProperties = Record<string, string | string[]>

export interface FixtureSite {
  engineVersion?: string
  processId?: number
  /** §4.6: `FROM [...]` paths that fail with "Cannot open file". */
  missingFiles?: string[]
  /** Default createdDate/modifiedDate for entities that do not set one. */
  defaultDate?: string
}

export interface FixtureAudit {
  createdDate?: string
  modifiedDate?: string
  modifiedBy?: string
}

export interface FixtureNode extends FixtureAudit {
  id?: string
  name: string
  hostName: string
  central?: boolean
}

export interface FixtureUser extends FixtureAudit {
  id?: string
  directory: string
  userId: string
  name?: string
  roles?: string[]
  email?: string | string[]
  attributes?: Array<{ type: string; value: string }>
  tags?: string[]
  customProperties?: FixtureCustomProperties
}

export interface FixtureTag extends FixtureAudit {
  id?: string
  name: string
}

export interface FixtureCustomPropertyDefinition extends FixtureAudit {
  id?: string
  name: string
  valueType?: string
  choiceValues?: string[]
  objectTypes: string[]
  description?: string
}

export interface FixtureStream extends FixtureAudit {
  id?: string
  name: string
  /** `DIR\userId` or a user GUID. */
  owner?: string
  tags?: string[]
  customProperties?: FixtureCustomProperties
}

export interface FixtureGenericObject {
  id: string
  type?: string
  title?: string
  description?: string
  /** Extra properties merged into the property tree (e.g. `visualization`, `rank`). */
  properties?: Record<string, unknown>
  /** Sheet cells / story slides: child visualisations. */
  children?: FixtureChildObject[]
}

export interface FixtureChildObject {
  id: string
  type: string
  title?: string
  dimensions?: string[]
  measures?: string[]
  properties?: Record<string, unknown>
}

export interface FixtureAppObjects {
  sheets?: FixtureGenericObject[]
  stories?: FixtureGenericObject[]
  masterobjects?: FixtureChildObject[]
  appprops?: FixtureGenericObject[]
  dimensions?: Array<{
    id: string
    title: string
    field?: string
    fields?: string[]
    description?: string
    tags?: string[]
  }>
  measures?: Array<{
    id: string
    title: string
    expression: string
    label?: string
    description?: string
    tags?: string[]
  }>
  bookmarks?: Array<{ id: string; title: string; description?: string; selections?: Record<string, string[]> }>
  snapshots?: Array<{ id: string; title: string; object: string; description?: string }>
  variables?: Array<{
    id?: string
    name: string
    definition: string
    comment?: string
    scriptCreated?: boolean
    reserved?: boolean
    config?: boolean
  }>
  connections?: Array<{ id?: string; name: string; connectionString: string; type?: string; modifiedDate?: string }>
  fields?: Array<{
    name: string
    cardinal?: number
    tags?: string[]
    tables?: string[]
    system?: boolean
    hidden?: boolean
  }>
  media?: string[]
}

export interface FixtureApp extends FixtureAudit {
  id?: string
  name: string
  description?: string
  owner?: string
  stream?: string
  publishTime?: string
  fileSize?: number
  lastReloadTime?: string
  tags?: string[]
  customProperties?: FixtureCustomProperties
  script?: string
  hasSectionAccess?: boolean
  objects?: FixtureAppObjects
  /** Derived from the script's FROM / INLINE / RESIDENT clauses when left out. */
  lineage?: Array<{ discriminator: string; statement?: string }>
}

export type FixtureTaskType = 'reload' | 'externalProgram' | 'userSync' | 'distribute' | 'preload'

export interface FixtureTask extends FixtureAudit {
  id?: string
  name: string
  type?: FixtureTaskType
  /** App name or id (reload, preload, optionally distribute). */
  app?: string
  enabled?: boolean
  maxRetries?: number
  taskSessionTimeout?: number
  isManuallyTriggered?: boolean
  isPartialReload?: boolean
  timeToLive?: number
  preloadNodes?: string[]
  tags?: string[]
  customProperties?: FixtureCustomProperties
  behaviour?: {
    outcome?: 'success' | 'fail' | 'abort'
    durationMs?: number
    failLine?: number
    errorText?: string
    retriesBeforeSuccess?: number
    abortUser?: string
    distributionQueueMs?: number
  }
  /** Task names or ids whose success starts this one (the chain). */
  startAfterSuccessOf?: string[]
  path?: string
  parameters?: string
  userDirectory?: string
  nextExecution?: string
}

export interface FixtureFile {
  site?: FixtureSite
  nodes?: FixtureNode[]
  users?: FixtureUser[]
  tags?: Array<FixtureTag | string>
  customPropertyDefinitions?: FixtureCustomPropertyDefinition[]
  streams?: FixtureStream[]
  apps?: FixtureApp[]
  tasks?: FixtureTask[]
}
