import type { Bus, Sender } from '../broker/bus.js'
import type { Logger } from '../log.js'
import type { ErrorCode } from './errors.js'
import type { Topics } from './topics.js'
import type { JsonSchema } from './validate.js'

/** What the REST dialects hand a route to build the capability request from. */
export interface HttpRequestParts {
  params: Record<string, string>
  query: Record<string, string>
  /** Parsed JSON body; undefined when the request had none. */
  body: unknown
}

/**
 * A REST route that maps onto a capability (Butler's `/v4/...` dialect). The shim holds no logic:
 * everything route-specific (how to build the request, which status and body Butler answers with)
 * is declared here, next to the capability it belongs to.
 */
export interface HttpRoute<Req = unknown, Res = unknown> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  path: string
  /** Butler's enable-flag name for this route (listed by GET /v4/configfile/endpointsenabled). */
  butlerFlag?: string
  /** Query parameters `toRequest` reads, for the OpenAPI document. */
  query?: string[]
  summary?: string
  toRequest(parts: HttpRequestParts): Req
  /** Success status, as Butler answers it (200, 201 or 204). */
  status?: number
  /** Success body; omit for the capability's `data` as is. Ignored for 204. */
  toBody?(data: Res, req: Req): unknown
  /** Error codes Butler answers with another status than our table's (e.g. NOT_FOUND → 400 for KV). */
  errorStatus?: Partial<Record<ErrorCode, number>>
}

export interface AppInfo {
  name: string
  version: string
  /** Names of the enabled capabilities. */
  capabilities: () => string[]
  /** Butler enable-flag names of the enabled routes. */
  butlerFlags: () => string[]
}

export interface HandlerContext<S = unknown, C = unknown> {
  state: S
  config: C
  log: Logger
  bus: Bus
  topics: Topics
  app: AppInfo
  transaction: string | undefined
  sender: Sender | undefined
  /** Aborted when the request times out or sensebus shuts down. */
  signal: AbortSignal
  /** Long-running work reports here; it is published as an event, never as a second response. */
  progress(data: Record<string, unknown>): void
}

export interface Capability<Req = any, Res = any, S = any, C = any> {
  /** `<area>/<op>`; the request topic is `<base>/request/<name>`. */
  name: string
  summary: string
  description?: string
  request: JsonSchema
  result: JsonSchema
  example?: { request: Req; result: Res }
  /** Overrides the bus-wide request timeout. */
  timeoutMs?: number
  routes?: HttpRoute<Req, Res>[]
  handle(req: Req, ctx: HandlerContext<S, C>): Promise<Res>
}

export interface ModuleContext<C = unknown> {
  config: C
  log: Logger
  bus: Bus
  topics: Topics
  dataDir: string
}

/** A retained or event topic a module publishes, for the topic catalogue. */
export interface PublishedTopic {
  /** Relative to the base topic, with `{placeholders}`: `state/kv/{namespace}/{key}`. */
  topic: string
  kind: 'event' | 'state'
  summary: string
  schema: JsonSchema
  example?: unknown
}

/**
 * One folder under src/capabilities: its capabilities, config slice and any long-lived state
 * (a store, a timer) created once at start-up and passed to every handler.
 */
export interface CapabilityModule<S = any, C = any> {
  area: string
  summary: string
  /** The slice under `capabilities.<area>` in the config file. */
  configSchema: JsonSchema
  setup?(ctx: ModuleContext<C>): Promise<S>
  teardown?(state: S): Promise<void>
  capabilities: Capability<any, any, S, C>[]
  publishes?: PublishedTopic[]
}

export function defineCapability<Req, Res, S = unknown, C = unknown>(
  cap: Capability<Req, Res, S, C>,
): Capability<Req, Res, S, C> {
  return cap
}

export function defineModule<S, C>(mod: CapabilityModule<S, C>): CapabilityModule<S, C> {
  return mod
}
