import { type Static, type TObject, type TProperties, type TSchema, Type } from '@sinclair/typebox'
import type { CapabilityModule } from '../core/capability.js'
import { limit, section } from '../core/schema.js'
import { tlsFilesSchema, tlsListenerSchema } from '../net/tls-config.js'
import { securityConfigSchema } from '../security/config.js'
import { chatConfigSchema } from '../services/chat/index.js'
import { filesConfigSchema } from '../services/files/index.js'
import { mailConfigSchema } from '../services/mail.js'
import { outboxConfigSchema } from '../services/outbox/index.js'
import { storeConfigSchema } from '../services/store/index.js'
import { templatesConfigSchema } from '../services/templates.js'
import { senseConfigSchema } from '../sense/config.js'

const port = (def: number) =>
  Type.Integer({ minimum: 0, maximum: 65535, default: def, description: '0 picks a free port' })
const host = Type.String({ minLength: 1, default: '127.0.0.1' })
const listener = (def: number) => section({ enabled: Type.Boolean({ default: true }), host, port: port(def) })

/** An operational endpoint of the HTTP listener: on or off, open or behind an API token. */
const opsEndpoint = <P extends TProperties = Record<never, never>>(description: string, extra: P = {} as P) =>
  section(
    {
      ...extra,
      enabled: Type.Boolean({ default: true }),
      auth: Type.Union([Type.Literal('none'), Type.Literal('token')], {
        default: 'none',
        description: 'token: callers send Authorization: Bearer <token> with any token of security.tokens',
      }),
    },
    { description },
  )

const capabilitiesBase = {
  disabled: Type.Array(Type.String({ pattern: '^[a-z0-9-]+/([a-z0-9-]+|\\*)$' }), {
    default: [],
    description:
      "Capabilities to switch off: 'kv/delete-namespace', an area 'kv/*', or a module's area with all it serves " +
      "('file/*' includes dir/create and dir/create-qvd)",
  }),
}

/** Everything but the capability slices, which come from the modules (see `buildConfigSchema`). */
const rootSchema = section({
  version: Type.Literal(1, { default: 1 }),
  baseTopic: Type.String({ pattern: '^[^#+/$][^#+]*[^#+/]$|^[^#+/$]$', default: 'sense' }),
  dataDir: Type.String({ minLength: 1, default: './data' }),
  log: section({
    level: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      {
        default: 'info',
      },
    ),
    format: Type.Union([Type.Literal('auto'), Type.Literal('json'), Type.Literal('pretty')], {
      default: 'auto',
      description: 'auto: readable lines when stdout is a terminal, JSON lines otherwise',
    }),
    file: section({
      enabled: Type.Boolean({ default: false, description: 'Also write the log to a file, a new one each day' }),
      dir: Type.String({
        minLength: 1,
        default: './log',
        description: 'Folder of the files (relative to the working directory, like dataDir)',
      }),
      name: Type.String({
        pattern: '^[A-Za-z0-9_.-]+$',
        default: 'sensebus',
        description: 'Files are <name>.<YYYY-MM-DD>.log',
      }),
      retainDays: limit(30, 'Files of older days are deleted'),
      format: Type.Union([Type.Literal('json'), Type.Literal('pretty')], { default: 'json' }),
    }),
  }),
  broker: section({
    url: Type.Optional(
      Type.String({ pattern: '^(mqtts?|wss?)://', description: 'External broker: no embedded broker is started' }),
    ),
    username: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
    clientId: Type.Optional(Type.String({ minLength: 1 })),
    sharedGroup: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9_-]+$',
        description: 'Several sensebus instances on one external broker share requests',
      }),
    ),
    trustedRoles: Type.Array(Type.String(), {
      default: ['admin'],
      description:
        "External-broker mode: roles of requests from the broker's clients, whom sensebus cannot identify " +
        "(the broker's ACLs decide who may publish them)",
    }),
    adminTakesOverClientIds: Type.Boolean({
      default: false,
      description:
        'A client id belongs to the user that first used it; others get CONNACK 2. True lets admin take one over',
    }),
    mqtt: listener(1883),
    ws: section({
      enabled: Type.Boolean({ default: true }),
      host,
      port: port(9001),
      origins: Type.Array(Type.String({ minLength: 1 }), {
        default: [],
        description:
          "Web origins whose pages may connect over WebSocket (ws and wss), like http.cors.origins; '*' allows " +
          'any. Upgrades that carry another Origin header get 403; clients that send none (not browsers) connect',
      }),
    }),
    mqtts: tlsListenerSchema(8883),
    wss: tlsListenerSchema(9443),
    maxPayloadBytes: limit(1_048_576, 'Largest MQTT payload; a bigger PUBLISH closes the connection'),
    maxConnections: limit(1000, 'Open MQTT connections over all listeners; more get CONNACK 3'),
    connectTimeoutMs: limit(10_000, 'Time a new connection has to send CONNECT', 100),
    maxClientBufferBytes: limit(
      8 * 1024 * 1024,
      'Bytes waiting to be sent to one client; beyond, QoS 0 messages to it are dropped and its own publishes wait',
    ),
    retained: section({
      maxMessages: limit(100_000, 'Retained messages clients may keep, all users together; beyond, not retained'),
      maxBytes: limit(256 * 1024 * 1024, 'Payload bytes of the retained messages clients keep, all users together'),
      maxMessagesPerUser: limit(10_000, 'Retained messages one user may keep; beyond, delivered but not retained'),
      maxBytesPerUser: limit(64 * 1024 * 1024, 'Payload bytes of the retained messages one user may keep'),
    }),
  }),
  http: section({
    enabled: Type.Boolean({ default: true }),
    host,
    port: port(8080),
    bodyLimitBytes: limit(1_048_576, 'Largest request body; 413 beyond'),
    requestTimeoutMs: limit(30_000, 'Longest wait for an answer when the capability declares no timeout of its own'),
    headersTimeoutMs: limit(10_000, 'Time a client has to send its request headers (slowloris guard)', 100),
    bodyTimeoutMs: limit(10_000, 'Time a client has to send its body once the headers are in', 100),
    maxConnections: limit(256, 'Open HTTP connections; more are answered 503 BUSY and closed'),
    tls: Type.Optional(tlsFilesSchema),
    cors: section({
      origins: Type.Array(Type.String(), { default: [], description: "Allowed origins; '*' allows any" }),
    }),
    health: opsEndpoint('GET /health: readiness (broker, store, Sense) as JSON, 200 or 503; GET /health/live', {
      senseRequired: Type.Boolean({
        default: false,
        description: 'An unreachable Sense makes /health answer 503 (otherwise 200 with status degraded)',
      }),
    }),
    metrics: opsEndpoint('GET /metrics: Prometheus text format'),
    docs: opsEndpoint('GET /api/docs, /api/openapi.json and /api/asyncapi.json: the API description'),
  }),
  web: section({
    enabled: Type.Boolean({
      default: true,
      description:
        'GET / on the HTTP listener: the live web view (static files only; the page talks MQTT over WebSocket ' +
        'with your user name and password or an API token, under the same roles as every client)',
    }),
    brokerUrl: Type.Optional(
      Type.String({
        pattern: '^wss?://',
        description:
          "The WebSocket URL the page connects to; default the embedded broker's wss (else ws) listener " +
          'on the host name the page was loaded from',
      }),
    ),
  }),
  bus: section({
    maxInFlight: limit(256, 'Requests in flight over all callers; more are answered BUSY'),
    maxInFlightPerClient: limit(
      32,
      'Requests one caller may have in flight; more wait their turn (up to 8× this many), then BUSY',
    ),
    requestTimeoutMs: limit(30_000, 'How long a capability may take when it declares no timeout of its own'),
  }),
  runtime: section({
    heap: Type.Union([Type.Literal('auto'), Type.Literal('lean'), Type.Literal('fast')], {
      default: 'auto',
      description:
        "lean: V8 favours memory over speed (sensebus shares the Sense server with the Engine); fast: V8's " +
        'defaults; auto: lean while quiet, fast while busy. Applies to `sensebus start` and `sensebus demo`',
    }),
  }),
  jobs: section({
    maxRunning: limit(64, 'Long-running jobs (reloads, dumps) at once; more are answered BUSY'),
    retainMs: limit(3_600_000, "How long a finished job's state stays retained and answerable by job/status"),
  }),
  sense: senseConfigSchema,
  security: securityConfigSchema,
  store: storeConfigSchema,
  mail: mailConfigSchema,
  templates: templatesConfigSchema,
  outbox: outboxConfigSchema,
  files: filesConfigSchema,
  chat: chatConfigSchema,
  capabilities: section({ ...capabilitiesBase }, { additionalProperties: true }),
})

/** The validated config, every default filled in. Capability slices are typed by their own modules. */
export type Config = Static<typeof rootSchema> & { capabilities: Record<string, unknown> }

/**
 * The root config schema: fixed sections plus one slice per capability module, so adding a module
 * adds its settings without touching this file.
 */
export function buildConfigSchema(modules: CapabilityModule[]): TObject {
  const slices: Record<string, TSchema> = { ...capabilitiesBase }
  for (const m of modules) slices[m.area] = Type.Unsafe({ default: {}, ...m.configSchema })
  return Type.Object({ ...rootSchema.properties, capabilities: section(slices) }, { additionalProperties: false })
}
