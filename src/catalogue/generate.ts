import type { CapabilityModule, PublishedTopic } from '../core/capability.js'
import { event } from '../core/envelope.js'
import { createTopics, type Topics } from '../core/topics.js'
import type { JsonSchema } from '../core/validate.js'
import {
  bridgeInfoSchema,
  bridgeStateSchema,
  eventEnvelopeSchema,
  requestEnvelopeSchema,
  responseEnvelopeSchema,
} from './envelope-schemas.js'
import { renderCatalogue } from './markdown.js'

const DRAFT_07 = 'http://json-schema.org/draft-07/schema#'

export interface TopicEntry {
  topic: string
  kind: 'request' | 'response' | 'event' | 'state' | 'bridge'
  summary: string
  schemaFile: string
  schema: JsonSchema
  example?: unknown
  retained: boolean
}

const SYSTEM_TOPICS: PublishedTopic[] = [
  {
    topic: 'event/request/progress',
    kind: 'event',
    summary: 'Progress of a long-running request (data carries capability and transaction)',
    schema: {
      type: 'object',
      required: ['capability'],
      properties: { capability: { type: 'string' }, transaction: { type: 'string' } },
    },
  },
  {
    topic: 'event/audit',
    kind: 'event',
    summary:
      'One record per request when security.audit.publish is on: who, capability, outcome, duration (never the body)',
    schema: {
      type: 'object',
      required: ['capability', 'transport', 'outcome', 'durationMs'],
      properties: {
        capability: { type: 'string' },
        transaction: { type: 'string' },
        transport: { enum: ['mqtt', 'mqtts', 'ws', 'wss', 'internal', 'http'] },
        clientId: { type: 'string' },
        username: { type: 'string' },
        roles: { type: 'array', items: { type: 'string' } },
        outcome: { type: 'string', description: "'ok' or the error code" },
        durationMs: { type: 'number' },
      },
    },
    example: {
      capability: 'kv/set',
      transaction: 'tx-1',
      transport: 'mqtt',
      clientId: 'etl-1',
      username: 'etl',
      roles: ['loadscript'],
      outcome: 'ok',
      durationMs: 0.41,
    },
  },
]

/** Every topic sensebus reads or writes, from the registry. */
export function topicEntries(modules: CapabilityModule[], base = 'sense'): TopicEntry[] {
  const topics = createTopics(base)
  const entries: TopicEntry[] = []
  for (const mod of modules) {
    for (const cap of mod.capabilities) {
      const file = cap.name.replace('/', '.')
      entries.push({
        topic: topics.request(cap.name),
        kind: 'request',
        summary: cap.summary,
        schemaFile: `schemas/${file}.request.json`,
        schema: requestEnvelopeSchema(cap.request),
        example: cap.example && { ...cap.example.request, transaction: 'tx-1' },
        retained: false,
      })
      entries.push({
        topic: topics.response(cap.name),
        kind: 'response',
        summary: `Answer to ${cap.name} (or on the request's replyTo)`,
        schemaFile: `schemas/${file}.response.json`,
        schema: responseEnvelopeSchema(cap.result),
        example: cap.example && { transaction: 'tx-1', status: 'ok', data: cap.example.result },
        retained: false,
      })
    }
    for (const t of [...(mod.publishes ?? [])]) entries.push(published(t, topics))
  }
  for (const t of SYSTEM_TOPICS) entries.push(published(t, topics))
  entries.push({
    topic: topics.bridgeState,
    kind: 'bridge',
    summary: 'Retained availability: online, offline (last will and clean shutdown), degraded',
    schemaFile: 'schemas/bridge.state.json',
    schema: bridgeStateSchema,
    example: { state: 'online' },
    retained: true,
  })
  entries.push({
    topic: topics.bridgeInstance('{instance}'),
    kind: 'bridge',
    summary:
      'With broker.sharedGroup: retained availability of one instance (online, degraded, offline as its last will)',
    schemaFile: 'schemas/bridge.instance.json',
    schema: bridgeStateSchema,
    example: { state: 'offline' },
    retained: true,
  })
  entries.push({
    topic: topics.bridgeInfo,
    kind: 'bridge',
    summary: 'Retained description: version, capabilities, topics',
    schemaFile: 'schemas/bridge.info.json',
    schema: bridgeInfoSchema,
    retained: true,
  })
  return entries
}

function published(t: PublishedTopic, topics: Topics): TopicEntry {
  const name = t.topic
    .replace(/\{[^}]+\}/g, 'x')
    .replace(/\//g, '.')
    .replace(/\.x/g, '')
  const schema = t.kind === 'event' ? eventEnvelopeSchema(t.schema) : t.schema
  const example =
    t.kind === 'event' && t.example !== undefined
      ? {
          ...event(`sense.${name}`, 'sensebus/sb-1234abcd', t.example),
          id: '00000000-0000-0000-0000-000000000000',
          time: '2026-01-01T00:00:00.000Z',
        }
      : t.example
  return {
    topic: `${topics.base}/${t.topic}`,
    kind: t.kind,
    summary: t.summary,
    schemaFile: `schemas/${name}.json`,
    schema,
    example,
    retained: t.kind === 'state',
  }
}

/** A name derived from the topic, so ids stay put when capabilities are added: `kv.set.request`. */
export function entryId(e: TopicEntry): string {
  return e.schemaFile.replace(/^schemas\//, '').replace(/\.json$/, '')
}

/**
 * AsyncAPI 3 with every schema inline under `components`, so the document validates on its own
 * (served over HTTP or read from disk), and ids taken from topic names, not positions.
 */
export function buildAsyncApi(entries: TopicEntry[], version: string, servers: Record<string, unknown>): unknown {
  const channels: Record<string, unknown> = {}
  const operations: Record<string, unknown> = {}
  const messages: Record<string, unknown> = {}
  const schemas: Record<string, unknown> = {}
  for (const e of entries) {
    const id = entryId(e)
    schemas[id] = e.schema
    messages[id] = {
      name: id,
      title: e.topic,
      summary: e.summary,
      contentType: 'application/json',
      payload: { $ref: `#/components/schemas/${id}` },
      ...(e.example !== undefined ? { examples: [{ payload: e.example }] } : {}),
    }
    channels[id] = {
      address: e.topic,
      description: e.summary,
      messages: { [id]: { $ref: `#/components/messages/${id}` } },
    }
    // sensebus' point of view: it receives requests and sends everything else.
    const action = e.kind === 'request' ? 'receive' : 'send'
    operations[`${action}.${id}`] = {
      action,
      channel: { $ref: `#/channels/${id}` },
      summary: e.summary,
      messages: [{ $ref: `#/channels/${id}/messages/${id}` }],
      ...(e.retained ? { bindings: { mqtt: { retain: true, bindingVersion: '0.2.0' } } } : {}),
    }
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'sensebus MQTT API',
      version,
      description:
        'Every capability is a topic. sensebus receives requests and sends responses, events and retained state.',
    },
    defaultContentType: 'application/json',
    servers,
    channels,
    operations,
    components: { schemas, messages },
  }
}

/** The servers of a default installation, for the generated document; a running sensebus names its own. */
export const DEFAULT_SERVERS = {
  mqtt: {
    host: 'localhost:1883',
    protocol: 'mqtt',
    protocolVersion: '3.1.1',
    description: 'The embedded broker, MQTT over TCP (broker.mqtt)',
  },
  ws: {
    host: 'localhost:9001',
    protocol: 'ws',
    description: 'The embedded broker, MQTT over WebSocket (broker.ws)',
  },
}

/** All files of topics/, keyed by relative path. Deterministic: the same registry gives the same bytes. */
export function generateTopicFiles(modules: CapabilityModule[], version: string): Map<string, string> {
  const entries = topicEntries(modules)
  const files = new Map<string, string>()
  for (const e of entries)
    files.set(e.schemaFile, `${JSON.stringify({ $schema: DRAFT_07, title: e.topic, ...e.schema }, null, 2)}\n`)
  files.set('asyncapi.json', `${JSON.stringify(buildAsyncApi(entries, version, DEFAULT_SERVERS), null, 2)}\n`)
  files.set('README.md', renderCatalogue(entries))
  return files
}
