/**
 * Topic naming in one place. The base topic is configurable (`baseTopic`, default `sense`); nothing
 * else in sensebus builds a `<base>/...` string by hand.
 */

/** The trees under the base topic. Only requests come from clients; the rest are sensebus' alone. */
export const AREAS = ['request', 'response', 'event', 'state', 'bridge', 'reply'] as const
export type Area = (typeof AREAS)[number]
export const OWNED_AREAS: readonly Area[] = ['response', 'event', 'state', 'bridge', 'reply']

export interface Topics {
  base: string
  requestFilter: string
  request(capability: string): string
  response(capability: string): string
  /** Capability name from a request topic, or undefined when the topic is not a request. */
  capabilityOf(topic: string): string | undefined
  /** `<base>/event/<domain>/<what...>`. */
  event(domain: string, ...what: string[]): string
  /** `<base>/state/<parts...>`. */
  state(...parts: string[]): string
  /** `<base>/<area>` or, with a rest, `<base>/<area>/<rest>`: for filters such as `area('event', '#')`. */
  area(area: Area, ...rest: string[]): string
  /** The area a topic lies in, or undefined outside the base topic. */
  areaOf(topic: string): Area | undefined
  /** A topic in one of the trees only sensebus publishes to. */
  isOwned(topic: string): boolean
  bridgeState: string
  bridgeInfo: string
  /** `bridge/instance/<busId>`: one instance's own state when several share a broker. */
  bridgeInstance(busId: string): string
  audit: string
  reply(busId: string, capability: string): string
  replyFilter(busId: string): string
  /** The reply id a `<base>/reply/<id>/...` topic or filter belongs to. */
  replyIdOf(topicOrFilter: string): string | undefined
  jobState(jobId: string): string
  jobEvent(jobId: string, what: 'progress' | 'completed' | 'failed' | 'cancelled'): string
}

export function createTopics(base = 'sense'): Topics {
  const requestPrefix = `${base}/request/`
  const replyPrefix = `${base}/reply/`
  const area = (a: Area, ...rest: string[]) => [`${base}/${a}`, ...rest].join('/')
  const areaOf = (topic: string): Area | undefined => {
    if (!topic.startsWith(`${base}/`)) return undefined
    const first = topic.slice(base.length + 1).split('/')[0]
    return (AREAS as readonly string[]).includes(first ?? '') ? (first as Area) : undefined
  }
  return {
    base,
    requestFilter: `${requestPrefix}#`,
    request: (capability) => `${requestPrefix}${capability}`,
    response: (capability) => area('response', capability),
    capabilityOf: (topic) => (topic.startsWith(requestPrefix) ? topic.slice(requestPrefix.length) : undefined),
    event: (domain, ...what) => area('event', domain, ...what),
    state: (...parts) => area('state', ...parts),
    area,
    areaOf,
    isOwned: (topic) => {
      const a = areaOf(topic)
      return a !== undefined && OWNED_AREAS.includes(a)
    },
    bridgeState: area('bridge', 'state'),
    bridgeInfo: area('bridge', 'info'),
    bridgeInstance: (busId) => area('bridge', 'instance', busId),
    audit: area('event', 'audit'),
    // Private reply topics keep concurrent requesters (the HTTP shim, the CLI, other sensebus
    // instances on a shared broker) from seeing each other's answers.
    reply: (busId, capability) => area('reply', busId, capability),
    replyFilter: (busId) => area('reply', busId, '#'),
    replyIdOf: (t) => (t.startsWith(replyPrefix) ? t.slice(replyPrefix.length).split('/')[0] : undefined),
    jobState: (jobId) => area('state', 'job', jobId),
    jobEvent: (jobId, what) => area('event', 'job', jobId, what),
  }
}

/** A topic segment built from user data (a KV namespace or key): no level separators or wildcards. */
export function topicSegment(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

/** MQTT topic-filter matching ([MQTT-4.7]): `+` one level, `#` the rest; `$` topics only match explicit filters. */
export function topicMatches(filter: string, topic: string): boolean {
  // On every message for every subscription of the bus: index walks, no split arrays to collect.
  if (topic.charCodeAt(0) === DOLLAR && filter.charCodeAt(0) !== DOLLAR) return false
  let f = 0
  let t = 0
  while (f <= filter.length) {
    const fEnd = levelEnd(filter, f)
    if (fEnd - f === 1 && filter.charCodeAt(f) === HASH) return true
    if (t > topic.length) return false
    const tEnd = levelEnd(topic, t)
    if (!(fEnd - f === 1 && filter.charCodeAt(f) === PLUS) && !sameLevel(filter, f, fEnd, topic, t, tEnd)) return false
    f = fEnd + 1
    t = tEnd + 1
  }
  return t > topic.length
}

const DOLLAR = 0x24
const HASH = 0x23
const PLUS = 0x2b

/** Where the level starting at `from` ends (the next '/' or the end). */
function levelEnd(s: string, from: number): number {
  const at = s.indexOf('/', from)
  return at === -1 ? s.length : at
}

function sameLevel(a: string, aFrom: number, aEnd: number, b: string, bFrom: number, bEnd: number): boolean {
  if (aEnd - aFrom !== bEnd - bFrom) return false
  for (let i = 0; i < aEnd - aFrom; i++) if (a.charCodeAt(aFrom + i) !== b.charCodeAt(bFrom + i)) return false
  return true
}

/** The most bytes an MQTT topic may take ([MQTT-1.5.3]: a UTF-8 string with a 16-bit length). */
export const MAX_TOPIC_BYTES = 65_535

/** A topic a client may publish to: non-empty, no wildcards, no NUL ([MQTT-3.3.2-2], [MQTT-4.7.3-1]). */
export function isValidPublishTopic(topic: string): boolean {
  return topic.length > 0 && !/[+#\u0000]/.test(topic) && Buffer.byteLength(topic) <= MAX_TOPIC_BYTES
}

/** A topic filter a broker accepts: `#` only as the whole last level, `+` only as a whole level ([MQTT-4.7.1]). */
export function isValidFilter(filter: string): boolean {
  if (filter.length === 0 || filter.includes('\u0000') || Buffer.byteLength(filter) > MAX_TOPIC_BYTES) return false
  const levels = filter.split('/')
  return levels.every((level, i) => {
    if (level.includes('#')) return level === '#' && i === levels.length - 1
    return !level.includes('+') || level === '+'
  })
}
