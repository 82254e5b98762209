import type { EmailEventConfig, Rule } from './config.js'

/**
 * Who gets an alert: pure functions over the alert's fields and the config, so the rules are tested
 * as tables. Butler's custom property names and semantics (BUTLER-REFERENCE §3.5, §3.7).
 */

export interface RoutingFacts {
  eventType: string
  taskTags: string[]
  taskCustomProperties: Array<{ name: string; value: string }>
  appStreamName: string
  appOwnerUserDirectory: string
  appOwnerUserId: string
  appOwnerEmail: string
}

/** Butler's words for our event types, as its custom property names spell them. */
const BUTLER_EVENT_WORDS: Record<string, string> = {
  'reload/failed': 'Failed',
  'reload/aborted': 'Aborted',
  'reload/succeeded': 'Success',
  'distribute/failed': 'DistributeFailed',
  'distribute/succeeded': 'DistributeSuccess',
  'preload/failed': 'PreloadFailed',
  'preload/succeeded': 'PreloadSuccess',
}

function butlerWord(eventType: string): string {
  const known = BUTLER_EVENT_WORDS[eventType]
  if (known) return known
  const cap = (s: string) => s.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase())
  const [domain = '', what = ''] = eventType.split('/')
  return `${cap(domain)}${cap(what === 'succeeded' ? 'success' : what)}`
}

/** `Butler_FailedAlertEnableEmail`, `Butler_PreloadSuccessAlertSendToEmail`, … */
export const defaultEnableProperty = (eventType: string) => `Butler_${butlerWord(eventType)}AlertEnableEmail`
export const defaultSendToProperty = (eventType: string) => `Butler_${butlerWord(eventType)}AlertSendToEmail`

const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/
export const isEmail = (s: string) => EMAIL.test(s)

const valuesOf = (facts: RoutingFacts, name: string) =>
  facts.taskCustomProperties.filter((cp) => cp.name === name).map((cp) => cp.value)

const sameUser = (a: { directory: string; userId: string }, dir: string, id: string) =>
  a.directory.toLowerCase() === dir.toLowerCase() && a.userId.toLowerCase() === id.toLowerCase()

/**
 * Butler's recipient algorithm: the task's own addresses (send-to property), the configured recipients
 * (all tasks, or only tasks opted in by the enable property), the app owner (include/exclude lists);
 * de-duplicated case-insensitively, invalid addresses dropped.
 */
export function emailRecipients(cfg: EmailEventConfig, facts: RoutingFacts): { to: string[]; invalid: string[] } {
  if (!cfg.enabled) return { to: [], invalid: [] }
  const candidates: string[] = []
  candidates.push(...valuesOf(facts, cfg.sendToCustomProperty ?? defaultSendToProperty(facts.eventType)))
  const optIn = cfg.enableByCustomProperty
  if (!optIn?.enabled) candidates.push(...cfg.recipients)
  else {
    const name = optIn.name ?? defaultEnableProperty(facts.eventType)
    if (valuesOf(facts, name).includes(optIn.value)) candidates.push(...cfg.recipients)
  }
  const owner = cfg.appOwner
  if (owner?.enabled && facts.appOwnerEmail) {
    const dir = facts.appOwnerUserDirectory
    const id = facts.appOwnerUserId
    const included = owner.includeAll || owner.include.some((u) => sameUser(u, dir, id))
    const excluded = owner.exclude.some((u) => sameUser(u, dir, id))
    if (included && !excluded) candidates.push(facts.appOwnerEmail)
  }
  const seen = new Set<string>()
  const to: string[] = []
  const invalid: string[] = []
  for (const raw of candidates) {
    const address = raw.trim()
    const key = address.toLowerCase()
    if (seen.has(key)) continue
    seen.add(key)
    if (isEmail(address)) to.push(address)
    else invalid.push(address)
  }
  return { to, invalid }
}

/** Destinations of every rule that matches: event type, any of the task tags, any of the app streams. */
export function ruleDestinations(rules: Rule[], facts: RoutingFacts): string[] {
  const out = new Set<string>()
  for (const rule of rules) {
    if (!rule.events.includes(facts.eventType)) continue
    if (rule.taskTags && !rule.taskTags.some((t) => facts.taskTags.includes(t))) continue
    if (rule.appStreams && !rule.appStreams.includes(facts.appStreamName)) continue
    for (const d of rule.destinations) out.add(d)
  }
  return [...out]
}
