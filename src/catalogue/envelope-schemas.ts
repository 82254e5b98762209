import { ERROR_CODES } from '../core/errors.js'
import type { JsonSchema } from '../core/validate.js'

const transaction = {
  anyOf: [{ type: 'string' }, { type: 'number' }],
  description: 'Echoed from the request exactly: a number stays a number',
}

/** The request as published: the capability's fields plus the reserved correlation keys. */
export function requestEnvelopeSchema(request: JsonSchema): JsonSchema {
  const props = (request.properties ?? {}) as Record<string, JsonSchema>
  return {
    ...request,
    properties: {
      ...props,
      transaction: {
        anyOf: [{ type: 'string' }, { type: 'number' }],
        description: 'Any id; echoed in the response',
      },
      replyTo: { type: 'string', description: 'Topic for the response instead of <base>/response/<capability>' },
    },
  }
}

/** Exactly one of these answers every request. */
export function responseEnvelopeSchema(result: JsonSchema): JsonSchema {
  return {
    oneOf: [
      {
        type: 'object',
        required: ['status', 'data'],
        additionalProperties: false,
        properties: { transaction, status: { const: 'ok' }, data: result },
      },
      {
        type: 'object',
        required: ['status', 'error'],
        additionalProperties: false,
        properties: {
          transaction,
          status: { const: 'error' },
          error: {
            type: 'object',
            required: ['code', 'message', 'details'],
            properties: { code: { enum: ERROR_CODES }, message: { type: 'string' }, details: {} },
          },
        },
      },
    ],
  }
}

/** CloudEvents structured form for `<base>/event/...`. */
export function eventEnvelopeSchema(data: JsonSchema): JsonSchema {
  return {
    type: 'object',
    required: ['id', 'time', 'type', 'source', 'data'],
    properties: {
      id: { type: 'string' },
      time: { type: 'string', format: 'date-time' },
      type: { type: 'string' },
      source: { type: 'string' },
      data,
    },
  }
}

export const bridgeStateSchema: JsonSchema = {
  type: 'object',
  required: ['state'],
  properties: { state: { enum: ['online', 'offline', 'degraded'] } },
}
export const bridgeInfoSchema: JsonSchema = {
  type: 'object',
  required: ['version', 'instance', 'baseTopic', 'capabilities', 'topics', 'startedAt'],
  properties: {
    version: { type: 'string' },
    instance: { type: 'string' },
    baseTopic: { type: 'string' },
    capabilities: { type: 'array', items: { type: 'string' } },
    topics: { type: 'object' },
    startedAt: { type: 'string', format: 'date-time' },
  },
}
