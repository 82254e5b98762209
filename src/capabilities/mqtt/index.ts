import { type Static, Type } from '@sinclair/typebox'
import { capabilityWith, defineModule } from '../../core/capability.js'
import { CapabilityError } from '../../core/errors.js'
import { closed, limit, section } from '../../core/schema.js'
import { checkTarget } from './target.js'

const configSchema = section({
  maxMessageBytes: limit(262_144, 'Largest message mqtt/publish sends (broker.maxPayloadBytes still applies)'),
  publishTimeoutMs: limit(5000, 'How long the broker may take to accept a message before the caller hears so'),
})
type MqttConfig = Static<typeof configSchema>

const qos = Type.Union([Type.Literal(0), Type.Literal(1)], {
  description: '0 (default, as Butler) or 1; the bus publishes at most QoS 1',
})

const request = closed({
  topic: Type.String({ minLength: 1, maxLength: 1024, description: 'Any topic your roles may publish to' }),
  message: Type.String({ description: 'Sent as is (UTF-8): text, JSON, key=value …; empty + retain clears' }),
  qos: Type.Optional(qos),
  retain: Type.Optional(Type.Boolean({ description: 'Keep it as the topic’s retained message (default false)' })),
})
type PublishRequest = Static<typeof request>

const result = closed({
  topic: Type.String(),
  qos,
  retain: Type.Boolean(),
  bytes: Type.Integer({ minimum: 0 }),
})

/** What a Qlik REST connector body may carry in Butler's terms: Fastify coerced scalars to the schema's types. */
function fromButler(body: unknown): PublishRequest {
  const b = isObject(body) ? { ...body } : {}
  if (typeof b.message === 'number' || typeof b.message === 'boolean') b.message = String(b.message)
  if (b.qos === '0' || b.qos === '1') b.qos = Number(b.qos)
  if (b.retain === 'true' || b.retain === 'false') b.retain = b.retain === 'true'
  return b as PublishRequest
}

const publish = capabilityWith<undefined, MqttConfig>()({
  name: 'mqtt/publish',
  summary: 'Publish a message on any topic the caller’s roles allow (never sensebus’ own trees), QoS 0/1, retain',
  description:
    "Butler's mqttpublishmessage without its hang: when the broker cannot be reached the answer is " +
    "BROKER_UNAVAILABLE at once. A retained message counts against the broker's retained quota " +
    '(broker.retained) for the caller, as if they had published it over MQTT.',
  request,
  result,
  roles: ['loadscript'],
  example: {
    request: { topic: 'qliksense/new_data_notification/sales', message: 'dt=20201028', qos: 1 },
    result: { topic: 'qliksense/new_data_notification/sales', qos: 1, retain: false, bytes: 11 },
  },
  routes: [
    {
      method: 'PUT',
      path: '/v4/mqttpublishmessage',
      butlerFlag: 'mqttPublishMessage',
      summary: "Butler's MQTT publish: {topic, message} (plus qos and retain), answered 201 with the body",
      toRequest: ({ body }) => fromButler(body),
      status: 201,
      response: Type.Object({ topic: Type.String(), message: Type.String() }, { additionalProperties: true }),
      toBody: (_d, req) => req,
    },
  ],
  async handle(req, { config, bus, topics, access, identity }) {
    const bytes = Buffer.byteLength(req.message)
    if (bytes > config.maxMessageBytes) {
      throw new CapabilityError(
        'PAYLOAD_TOO_LARGE',
        `The message is ${bytes} bytes; capabilities.mqtt.maxMessageBytes allows ${config.maxMessageBytes}`,
      )
    }
    checkTarget(req.topic, topics, access)
    const q = req.qos ?? 0
    const retain = req.retain === true
    // Butler's client queued the message and never answered while MQTT was down; this answers now.
    if (!bus.connected) throw unavailable('sensebus is not connected to its MQTT broker; try again later')
    // One retained limit for everyone, the broker's: the caller's quota, whichever door they came through.
    const retainedBy = retain ? (identity.user ?? '') : undefined
    await withDeadline(bus.publish(req.topic, req.message, { qos: q, retain, retainedBy }), config.publishTimeoutMs)
    return { topic: req.topic, qos: q, retain, bytes }
  },
})

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function unavailable(message: string): CapabilityError {
  return new CapabilityError('BROKER_UNAVAILABLE', message)
}

async function withDeadline(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(unavailable(`The broker did not take the message within ${ms} ms; it may still be delivered`)),
      ms,
    )
  })
  try {
    await Promise.race([work, late])
  } catch (err) {
    if (err instanceof CapabilityError) throw err
    throw unavailable(`The broker refused the message: ${(err as Error).message}`)
  } finally {
    clearTimeout(timer)
  }
}

export default defineModule<undefined, MqttConfig>({
  area: 'mqtt',
  summary: 'Publish on topics outside sensebus’ trees (Butler mqttpublishmessage), with topic ACLs and retain limits',
  configSchema,
  capabilities: [publish],
})
