import type { Static, TSchema } from '@sinclair/typebox'
import type { Logger } from '../log.js'
import type { Bus } from './bus.js'
import type { ErrorCode } from './errors.js'
import type { Identity } from './identity.js'
import type { Jobs } from './jobs.js'
import type { ServiceName, Services } from './services.js'
import type { Topics } from './topics.js'
import type { ModuleMetrics } from './metrics.js'
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
  /** JSON Schema of what `toBody` returns, for the OpenAPI document (required with `toBody`, by spec). */
  response?: JsonSchema
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

/** A caller's topic rights, as the broker's ACLs would apply them to its own publishes and subscriptions. */
export interface TopicAccess {
  canPublish(topic: string): boolean
  canSubscribe(filter: string): boolean
  /** Whether the caller's roles reach this KV namespace (all of them unless a role scopes KV). */
  kvNamespace(namespace: string): boolean
}

/** Built-in roles a capability can grant itself to; `admin` has every capability anyway. */
export type GrantableRole = 'loadscript' | 'observer'

export interface HandlerContext<S = unknown, C = unknown> {
  state: S
  config: C
  log: Logger
  bus: Bus
  topics: Topics
  app: AppInfo
  /** The services the capability's module declared. */
  services: Services
  /** Every long-running request of this instance (job/status, job/cancel). */
  jobs: Jobs
  transaction: string | undefined
  /** Who asked: follow-up requests a handler makes go out under this identity (or one derived from it). */
  identity: Identity
  /** What the caller's roles allow on topics, for capabilities that act on topics (mqtt/publish). */
  access: TopicAccess
  /** Aborted on timeout, on `job/cancel` and when sensebus shuts down. */
  signal: AbortSignal
  /**
   * The caller sent `wait: true`. Jobs answer with their final result (the dispatcher does that);
   * other capabilities whose work goes on after the answer (a chat post in the outbox) may hold
   * their answer until it is done.
   */
  wait: boolean
  /** Progress of long-running work: published as an event (the job's, for jobs), never as a response. */
  progress(data: Record<string, unknown>): void
  /** The job this request runs as (long-running capabilities only). */
  job?: { id: string }
  /**
   * Long-running capabilities that declare `job.accepts`: answer the caller now with this data while
   * the work goes on; the final result goes to the job's topics (and to the caller when it sent
   * `wait: true`). Later calls are ignored.
   */
  accept(data: Record<string, unknown>): void
}

export interface JobOptions {
  /** The handler calls `ctx.accept(data)` once the work is under way; the answer carries that data. */
  accepts?: boolean
}

export interface Capability<Req extends TSchema = TSchema, Res extends TSchema = TSchema, S = any, C = any> {
  /** `<area>/<op>`; the request topic is `<base>/request/<name>`. */
  name: string
  summary: string
  description?: string
  request: Req
  result: Res
  example?: { request: Static<Req>; result: Static<Res> }
  /** How long the work may take; every door (MQTT, HTTP, CLI, scheduler) honours it. */
  timeoutMs?: number
  /** Built-in roles besides admin that may call it. */
  roles?: readonly GrantableRole[]
  /**
   * Long-running: the request becomes a job with an id, progress events and a retained state; the
   * caller gets the job id at once, or the final result with `wait: true`; `job/cancel` stops it.
   */
  job?: JobOptions
  routes?: HttpRoute<Static<Req>, Static<Res>>[]
  handle(req: Static<Req>, ctx: HandlerContext<S, C>): Promise<Static<Res>>
}

export interface ModuleContext<C = unknown> {
  config: C
  log: Logger
  bus: Bus
  topics: Topics
  dataDir: string
  /** Where relative paths in the config resolve: the config file's folder (the working directory without one). */
  baseDir: string
  services: Services
  /** Register the module's own gauges and counters (`sensebus_<area>_...`) for GET /metrics. */
  metrics: ModuleMetrics
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
 * One folder under src/capabilities: its capabilities, config slice, the services it needs and any
 * long-lived state (a store, a timer) created once at start-up and passed to every handler.
 */
export interface CapabilityModule<S = any, C = any> {
  area: string
  summary: string
  /** The slice under `capabilities.<area>` in the config file. */
  configSchema: TSchema
  /** Services handed to `setup` and the handlers; start-up fails on a name no service has. */
  needs?: readonly ServiceName[]
  setup?(ctx: ModuleContext<C>): Promise<S>
  teardown?(state: S): Promise<void>
  /**
   * Runs once the dispatcher answers requests: work that issues requests by itself (a scheduler)
   * starts here, not in `setup`, or its first requests would find nobody listening. The function it
   * returns runs first at shutdown, while requests are still answered.
   */
  start?(state: S): Promise<(() => Promise<void>) | undefined>
  capabilities: Capability<any, any, S, C>[]
  publishes?: PublishedTopic[]
}

/**
 * @example
 * export const ping = defineCapability({
 *   name: 'util/ping', summary: 'Liveness', request: Type.Object({}), result: Type.Object({ ok: Type.Boolean() }),
 *   roles: ['loadscript'], async handle() { return { ok: true } },
 * })
 */
export function defineCapability<Req extends TSchema, Res extends TSchema, S = unknown, C = unknown>(
  cap: Capability<Req, Res, S, C>,
): Capability<Req, Res, S, C> {
  return cap
}

export function defineModule<S, C>(mod: CapabilityModule<S, C>): CapabilityModule<S, C> {
  return mod
}

/**
 * For a module whose handlers share state: binds the state and config types once, and leaves the
 * request and result types to be inferred from each capability's schemas.
 *
 * @example
 * const kvCapability = capabilityWith<KvState, KvConfig>()
 * export const kvGet = kvCapability({ name: 'kv/get', request: keyRequest, result: getResult, ... })
 */
export function capabilityWith<S, C = unknown>() {
  return <Req extends TSchema, Res extends TSchema>(cap: Capability<Req, Res, S, C>): Capability<Req, Res, S, C> => cap
}
