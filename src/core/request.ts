import { type Envelope, fail, pickTransaction, type Transaction } from './envelope.js'
import type { Identity } from './identity.js'
import { isValidPublishTopic, MAX_TOPIC_BYTES, type Topics } from './topics.js'

/** Limits on the parts of a request the dispatcher reads before any capability does. */
export interface RequestLimits {
  /** Longest transaction (characters); longer ones are refused, not echoed. */
  maxTransactionLength: number
  /** Deepest nesting of objects and arrays in a payload. */
  maxDepth: number
  /** Most properties of the request object (validation of a huge unknown-key list is costly). */
  maxProperties: number
}

export const DEFAULT_REQUEST_LIMITS: RequestLimits = { maxTransactionLength: 256, maxDepth: 64, maxProperties: 256 }

export interface ParsedRequest {
  name: string
  transaction: Transaction | undefined
  /** Where the answer goes: the capability's response topic or the caller's replyTo. */
  replyTopic: string
  /** `wait: true` asks a long-running capability for its final result instead of the job id. */
  wait: boolean
  body: Record<string, unknown>
}

export type ParseOutcome =
  | { ok: true; request: ParsedRequest }
  | { ok: false; replyTopic: string | undefined; answer: Envelope }

/** The one wording of a too-deep request, for MQTT and HTTP alike. */
export function tooDeep(max: number): { message: string; details: Array<{ path: string; message: string }> } {
  return {
    message: `The request nests deeper than ${max} levels`,
    details: [{ path: '/', message: `must nest at most ${max} levels` }],
  }
}

/** Whether a value nests deeper than `max` (checked without recursion, so no depth can blow the stack). */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]]
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number]
    if (!node || typeof node !== 'object') continue
    if (depth > max) return true
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child && typeof child === 'object') stack.push([child, depth + 1])
    }
  }
  return false
}

/**
 * `replyTo` may only name a topic the caller could read anyway: one under its own reply id, or one
 * its subscribe grants cover. Otherwise sensebus would publish, on the caller's behalf, where the
 * caller may not (another user's replies, `$SYS`, other applications' topics).
 */
export type ReplyToCheck = (identity: Identity | undefined, topic: string) => boolean

/**
 * The envelope-level reading of a request: JSON, object shape, limits, the reserved keys. Whatever
 * fails here is answered with the one error it deserves; the capability never sees it.
 */
export function parseRequest(
  topics: Topics,
  topic: string,
  payload: Buffer,
  identity: Identity | undefined,
  limits: RequestLimits,
  mayReplyTo: ReplyToCheck,
): ParseOutcome {
  const name = topics.capabilityOf(topic) ?? ''
  const response = topics.response(name)
  // The answer would go to a topic no broker accepts (and drop every wildcard subscriber with it).
  const replyTopic = Buffer.byteLength(response) <= MAX_TOPIC_BYTES ? response : undefined
  const refuse = (
    transaction: Transaction | undefined,
    ...args: Parameters<typeof fail> extends [unknown, ...infer R] ? R : never
  ) => ({ ok: false, replyTopic, answer: fail(transaction, ...args) }) as const

  let parsed: unknown
  // Zigbee2MQTT habit: an empty payload is the empty request.
  if (payload.length === 0) parsed = {}
  else {
    try {
      parsed = JSON.parse(payload.toString('utf8'))
    } catch (err) {
      return refuse(undefined, 'BAD_JSON', `Payload is not valid JSON: ${(err as Error).message}`)
    }
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return refuse(undefined, 'VALIDATION_FAILED', 'A request must be a JSON object', [
      { path: '/', message: 'must be object' },
    ])
  }
  let transaction = pickTransaction(parsed)
  if (typeof transaction === 'string' && transaction.length > limits.maxTransactionLength) {
    transaction = undefined
    return refuse(
      undefined,
      'VALIDATION_FAILED',
      `transaction is longer than ${limits.maxTransactionLength} characters`,
      [{ path: '/transaction', message: `must be at most ${limits.maxTransactionLength} characters` }],
    )
  }
  if (nestsDeeperThan(parsed, limits.maxDepth)) {
    const { message, details } = tooDeep(limits.maxDepth)
    return refuse(transaction, 'VALIDATION_FAILED', message, details)
  }
  const { replyTo, transaction: _t, wait, ...body } = parsed as Record<string, unknown>
  if (Object.keys(body).length > limits.maxProperties) {
    return refuse(transaction, 'VALIDATION_FAILED', `The request has more than ${limits.maxProperties} properties`, [
      { path: '/', message: `must have at most ${limits.maxProperties} properties` },
    ])
  }
  let target = replyTopic
  if (replyTo !== undefined) {
    // Never into sensebus' own trees (a reply into the request tree would loop), except private replies.
    const area = typeof replyTo === 'string' ? topics.areaOf(replyTo) : undefined
    if (typeof replyTo !== 'string' || !isValidPublishTopic(replyTo) || (area !== undefined && area !== 'reply')) {
      return refuse(transaction, 'VALIDATION_FAILED', 'replyTo must be a topic name you may subscribe to', [
        { path: '/replyTo', message: 'is not an allowed reply topic' },
      ])
    }
    if (!mayReplyTo(identity, replyTo)) {
      return refuse(transaction, 'FORBIDDEN', 'replyTo names a topic you may not subscribe to', [
        { path: '/replyTo', message: 'is not a topic you may read' },
      ])
    }
    target = replyTo
  }
  if (wait !== undefined && typeof wait !== 'boolean') {
    return refuse(transaction, 'VALIDATION_FAILED', 'wait must be true or false', [
      { path: '/wait', message: 'must be boolean' },
    ])
  }
  if (target === undefined) {
    return {
      ok: false,
      replyTopic: undefined,
      answer: fail(transaction, 'VALIDATION_FAILED', 'The request topic is too long'),
    }
  }
  return { ok: true, request: { name, transaction, replyTopic: target, wait: wait === true, body } }
}
