import { type Static, type TSchema, Type } from '@sinclair/typebox'
import { limit, section } from '../../core/schema.js'

/** The alert module's slice, `capabilities.alert` in the config file. Every limit has a safe default. */

const str = (description: string) => Type.String({ minLength: 1, description })
const list = (description: string) => Type.Array(Type.String({ minLength: 1 }), { default: [], description })
const opt = <T extends TSchema>(schema: T) => Type.Optional(schema)

/** `sense/event/<domain>/<what>` minus the prefix: `reload/failed`, `distribute/succeeded`, … */
const eventType = Type.String({ pattern: '^[a-z-]+/[a-z]+$' })

const udpSchema = section({
  enabled: Type.Boolean({ default: true, description: 'Listen for the Sense scheduler log appender' }),
  host: Type.String({ minLength: 1, default: '127.0.0.1', description: 'Address to bind; 0.0.0.0 for every one' }),
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 9998, description: "The appender's remotePort" }),
  allowedSources: list('Source addresses allowed to send; empty allows any (bind to loopback or firewall then)'),
  maxDatagramBytes: limit(65_507, 'Bigger datagrams are dropped'),
  maxPerSourcePerMinute: limit(600, 'Datagrams one source may send per minute; the rest are dropped'),
  maxFieldLength: limit(500, 'Each datagram field is cut to this many characters'),
  dedupTtlMs: limit(10 * 60_000, 'A repeated execution id within this window is ignored (remembered across restarts)'),
  concurrency: limit(4, 'Datagrams enriched and routed at once'),
  sharedClaimMs: limit(
    15_000,
    'Shared store (redis): an event whose instance stopped renewing its claim for twice this long is taken over',
  ),
})

const enrichmentSchema = section({
  enabled: Type.Boolean({ default: true, description: 'Read task, app, owner and script log from QRS' }),
  scriptLogHeadLines: limit(15, 'Script log lines from the start kept for templates', 0),
  scriptLogTailLines: limit(25, 'Script log lines from the end kept for templates', 0),
  distributePollMs: limit(30_000, 'Re-read a distribute task still running this often'),
  distributeMaxWaitMs: limit(6 * 3600_000, 'Stop waiting for a distribute task to finish after this long'),
})

const linksSchema = section({
  qmc: opt(str('QMC address for templates (qlikSenseQMC)')),
  hub: opt(str('Hub address for templates (qlikSenseHub)')),
  appBase: opt(str('Base of app links: appUrl = appBase/<appId>')),
  generic: Type.Array(
    Type.Object(
      { id: Type.String(), linkText: Type.String(), comment: Type.String({ default: '' }), url: Type.String() },
      { additionalProperties: false },
    ),
    { default: [], description: 'Extra links offered to templates as genericUrls' },
  ),
})

const ownerRef = Type.Object({ directory: Type.String(), userId: Type.String() }, { additionalProperties: false })

/** Butler's per-event email block, with Butler's custom property semantics (BUTLER-REFERENCE §3.5, §3.7). */
const emailEventSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true }),
    recipients: list('Always mailed (unless the task opt-in below is on and the task has not opted in)'),
    enableByCustomProperty: opt(
      Type.Object(
        {
          enabled: Type.Boolean({ default: true }),
          name: opt(str('Task custom property; default Butler_<Failed|Aborted|…>AlertEnableEmail')),
          value: Type.String({ default: 'Yes', description: 'Value that opts the task in' }),
        },
        { additionalProperties: false },
      ),
    ),
    sendToCustomProperty: opt(
      str('Task custom property whose values are extra recipients; default Butler_<…>AlertSendToEmail'),
    ),
    appOwner: opt(
      Type.Object(
        {
          enabled: Type.Boolean({ default: true }),
          includeAll: Type.Boolean({ default: true }),
          include: Type.Array(ownerRef, { default: [] }),
          exclude: Type.Array(ownerRef, { default: [] }),
        },
        { additionalProperties: false, description: "Mail the app's owner (when QRS knows an email for them)" },
      ),
    ),
    from: opt(str('Sender; default mail.from')),
    priority: Type.Union([Type.Literal('high'), Type.Literal('normal'), Type.Literal('low')], { default: 'high' }),
    subject: opt(str('Subject template (eta, text); default the shipped one')),
    template: opt(str('Body template under templates/ without extension; default alert/email/<domain>-<what>')),
    rateLimitMs: opt(
      Type.Integer({ minimum: 0, description: 'At most one mail per task and recipient in this window' }),
    ),
  },
  { additionalProperties: false },
)

const webhookSchema = Type.Object(
  {
    type: Type.Literal('webhook'),
    url: Type.String({ pattern: '^https?://' }),
    method: opt(Type.Union([Type.Literal('GET'), Type.Literal('POST'), Type.Literal('PUT')], { description: 'POST' })),
    headers: opt(Type.Record(Type.String(), Type.String())),
    caFile: opt(
      str('PEM file of the CA that signed the receiver (a relative path is read from the config file folder)'),
    ),
    rejectUnauthorized: opt(Type.Boolean({ description: 'Default true' })),
    rateLimitMs: opt(Type.Integer({ minimum: 0, description: 'At most one call per task in this window' })),
  },
  { additionalProperties: false },
)

const emailDestinationSchema = Type.Object(
  {
    type: Type.Literal('email'),
    to: Type.Array(Type.String({ minLength: 3 }), { minItems: 1 }),
    rateLimitMs: opt(
      Type.Integer({ minimum: 0, description: 'At most one mail per task and recipient in this window' }),
    ),
  },
  { additionalProperties: false },
)

const chatSchema = (type: 'slack' | 'teams') =>
  Type.Object(
    {
      type: Type.Literal(type),
      url: Type.String({ pattern: '^https?://', description: 'Incoming webhook (Slack) or Workflows webhook (Teams)' }),
      format: opt(Type.Union([Type.Literal('basic'), Type.Literal('formatted')], { description: 'Default formatted' })),
      rateLimitMs: opt(Type.Integer({ minimum: 0, description: 'At most one message per task in this window' })),
    },
    { additionalProperties: false },
  )

// No defaults inside the union's branches: ajv would apply one branch's defaults while trying another.
const destinationSchema = Type.Union([webhookSchema, emailDestinationSchema, chatSchema('slack'), chatSchema('teams')])

const ruleSchema = Type.Object(
  {
    name: opt(Type.String()),
    events: Type.Array(eventType, { minItems: 1, description: 'Event types this rule matches' }),
    taskTags: opt(Type.Array(Type.String(), { description: 'Only tasks with one of these tags' })),
    appStreams: opt(Type.Array(Type.String(), { description: 'Only apps published to one of these streams' })),
    destinations: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'Names under destinations' }),
  },
  { additionalProperties: false },
)

export const configSchema = section({
  udp: udpSchema,
  enrichment: enrichmentSchema,
  links: linksSchema,
  rateLimitMs: limit(300_000, 'Default window: one delivery per task, destination and recipient', 0),
  email: Type.Record(eventType, emailEventSchema, {
    default: {},
    description: "Butler-style mail per event type ('reload/failed': {...}), with custom property opt-in",
  }),
  destinations: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_-]+$' }), destinationSchema, {
    default: {},
    description: 'Named destinations that rules send to',
  }),
  rules: Type.Array(ruleSchema, { default: [], description: 'Event type, task tag, app stream → destinations' }),
  mqtt: section({
    butlerTopics: Type.Boolean({
      default: false,
      description: "Also publish Butler's qliksense/task_failure[_full] and qliksense/task_aborted[_full]",
    }),
    failureTopic: Type.String({ default: 'qliksense/task_failure' }),
    failureFullTopic: Type.String({ default: 'qliksense/task_failure_full' }),
    abortedTopic: Type.String({ default: 'qliksense/task_aborted' }),
    abortedFullTopic: Type.String({ default: 'qliksense/task_aborted_full' }),
  }),
  historyLimit: limit(500, 'Alerts kept for alert/list'),
})

export type AlertConfig = Static<typeof configSchema>
export type EmailEventConfig = Static<typeof emailEventSchema>
export type Destination = Static<typeof destinationSchema>
export type WebhookDestination = Static<typeof webhookSchema>
export type Rule = Static<typeof ruleSchema>
