import { asMap, type ButlerSource, isPlaceholder } from './source.js'
import { BUTLER_EVENTS, LICENSE_EVENTS, rateLimitMs, route, SERVICE_EVENTS, scriptLogLines, slug } from './events.js'
import type { SensebusTarget } from './target.js'

const isUrl = (v: unknown): v is string => typeof v === 'string' && /^https?:\/\//.test(v) && !isPlaceholder(v)

/** `slackNotification` / `teamsNotification` → alert destinations of type slack / teams, routed by event. */
export function mapChat(src: ButlerSource, out: SensebusTarget, kind: 'slack' | 'teams'): void {
  const root = `${kind}Notification`
  if (!src.has(root)) return
  const on = src.flag(`${root}.enable`) === true
  const left: string[] = []
  for (const [key, eventType] of Object.entries(BUTLER_EVENTS)) {
    const section = `${root}.${key}`
    if (!src.has(section)) continue
    if (!on || src.flag(`${section}.enable`) !== true) {
      left.push(key)
      continue
    }
    const url = src.value(`${section}.webhookURL`)
    if (!isUrl(url)) {
      src.skip(`${section}.webhookURL`, 'not an http(s) URL')
      continue
    }
    const name = `${kind}-${slug(eventType)}`
    const format = src.string(`${section}.messageType`)
    const limit = rateLimitMs(src, `${section}.rateLimit`)
    out.set(`capabilities.alert.destinations.${name}`, {
      type: kind,
      url,
      ...(format === 'basic' || format === 'formatted' ? { format } : {}),
      ...(limit !== undefined ? { rateLimitMs: limit } : {}),
    })
    route(out, eventType, name)
    scriptLogLines(src, out, section)
    if (kind === 'slack') {
      const user = src.string(`${section}.fromUser`)
      const icon = src.string(`${section}.iconEmoji`)
      if (user) out.set('chat.slack.username', user)
      if (icon) out.set('chat.slack.iconEmoji', icon)
      if (src.has(`${section}.channel`))
        src.skip(`${section}.channel`, 'a Slack incoming webhook posts to the channel it was created for')
    }
    if (src.has(`${section}.templateFile`) || src.has(`${section}.basicMsgTemplate`))
      src.skip(
        `${section}.templateFile`,
        "Butler's Handlebars templates are not read: sensebus renders " +
          `templates/alert/${kind}/<basic|formatted>.txt.eta ` +
          '(same field names); put your own under templates.dir',
      )
  }
  if (left.length > 0)
    src.note(root, `${left.join(', ')}: off in Butler, so no ${kind} destination is configured for them`)
  for (const key of SERVICE_EVENTS)
    if (src.has(`${root}.${key}`)) src.skip(`${root}.${key}`, 'Windows service monitoring is not offered by sensebus')

  const restUrl = src.value('slackNotification.restMessage.webhookURL')
  if (kind === 'slack' && restUrl !== undefined) {
    if (isUrl(restUrl)) {
      out.set('chat.slack.webhooks', { default: restUrl })
      src.note('slackNotification.restMessage.webhookURL', 'carried over as chat.slack.webhooks.default (slack/post)')
    } else src.skip('slackNotification.restMessage.webhookURL', 'not an http(s) URL')
  }
}

const METHODS = new Set(['GET', 'POST', 'PUT'])

/** `webhookNotification` → webhook destinations, routed by event. */
export function mapWebhooks(src: ButlerSource, out: SensebusTarget): void {
  const root = 'webhookNotification'
  if (!src.has(root)) return
  const on = src.flag(`${root}.enable`) === true
  for (const [key, eventType] of Object.entries(BUTLER_EVENTS)) {
    const section = `${root}.${key}`
    const hooks = src.list(`${section}.webhooks`)
    if (!src.has(section) || hooks.length === 0) continue
    if (!on) {
      src.note(section, 'off in Butler, so its webhooks are not configured')
      continue
    }
    const limit = rateLimitMs(src, `${section}.rateLimit`)
    for (const [i, item] of hooks.entries()) {
      const hook = asMap(item) ?? {}
      const where = `${section}.webhooks[${i}]`
      if (!isUrl(hook.webhookURL)) {
        src.skip(`${where}.webhookURL`, 'not an http(s) URL')
        continue
      }
      const method = String(hook.httpMethod ?? 'POST').toUpperCase()
      const cert = asMap(hook.cert)
      const useCert = cert?.enable === true || cert?.enable === 'true'
      const name = `webhook-${slug(eventType)}-${i + 1}`
      out.set(`capabilities.alert.destinations.${name}`, {
        type: 'webhook',
        url: hook.webhookURL,
        ...(METHODS.has(method) ? { method } : {}),
        ...(useCert && typeof cert?.certCA === 'string' && !isPlaceholder(cert.certCA) ? { caFile: cert.certCA } : {}),
        ...(useCert && typeof cert?.rejectUnauthorized === 'boolean'
          ? { rejectUnauthorized: cert.rejectUnauthorized }
          : {}),
        ...(limit !== undefined ? { rateLimitMs: limit } : {}),
      })
      route(out, eventType, name)
      if (!METHODS.has(method)) src.skip(`${where}.httpMethod`, `'${method}' is not GET, POST or PUT: POST is used`)
    }
  }
  for (const key of [...SERVICE_EVENTS, ...LICENSE_EVENTS])
    if (src.has(`${root}.${key}`))
      src.skip(
        `${root}.${key}`,
        `${key.startsWith('service') ? 'Windows service' : 'licence'} monitoring is not offered by sensebus`,
      )
}
