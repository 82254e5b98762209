/**
 * Topic naming in one place. The base topic is configurable (`baseTopic`, default `sense`).
 */
export interface Topics {
  base: string
  requestFilter: string
  request(capability: string): string
  response(capability: string): string
  /** Capability name from a request topic, or undefined when the topic is not a request. */
  capabilityOf(topic: string): string | undefined
  event(domain: string, what: string): string
  state(...parts: string[]): string
  bridgeState: string
  bridgeInfo: string
  reply(busId: string, capability: string): string
  replyFilter(busId: string): string
}

export function createTopics(base = 'sense'): Topics {
  const requestPrefix = `${base}/request/`
  return {
    base,
    requestFilter: `${base}/request/#`,
    request: (capability) => `${requestPrefix}${capability}`,
    response: (capability) => `${base}/response/${capability}`,
    capabilityOf: (topic) => (topic.startsWith(requestPrefix) ? topic.slice(requestPrefix.length) : undefined),
    event: (domain, what) => `${base}/event/${domain}/${what}`,
    state: (...parts) => [`${base}/state`, ...parts].join('/'),
    bridgeState: `${base}/bridge/state`,
    bridgeInfo: `${base}/bridge/info`,
    // Private reply topics keep concurrent requesters (the HTTP shim, the CLI, other sensebus
    // instances on a shared broker) from seeing each other's answers.
    reply: (busId, capability) => `${base}/reply/${busId}/${capability}`,
    replyFilter: (busId) => `${base}/reply/${busId}/#`,
  }
}

/** A topic segment built from user data (a KV namespace or key): no level separators or wildcards. */
export function topicSegment(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

/** MQTT topic-filter matching ([MQTT-4.7]): `+` one level, `#` the rest; `$` topics only match explicit filters. */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && !filter.startsWith('$')) return false
  const f = filter.split('/')
  const t = topic.split('/')
  for (let i = 0; i < f.length; i++) {
    const part = f[i]
    if (part === '#') return true
    if (i >= t.length) return false
    if (part !== '+' && part !== t[i]) return false
  }
  return f.length === t.length
}

/** A topic a client may publish to: non-empty, no wildcards, no NUL ([MQTT-3.3.2-2], [MQTT-4.7.3-1]). */
export function isValidPublishTopic(topic: string): boolean {
  return topic.length > 0 && !/[+#\u0000]/.test(topic) && Buffer.byteLength(topic) <= 65535
}
