import { asMap, type ButlerSource, isPlaceholder } from './source.js'
import { BUTLER_EVENTS, handlebarsToEta, rateLimitMs, SERVICE_EVENTS, scriptLogLines } from './events.js'
import type { SensebusTarget } from './target.js'

const PRIORITIES = new Set(['high', 'normal', 'low'])

function owners(list: unknown[]): Array<{ directory: string; userId: string }> {
  return list
    .map(asMap)
    .filter((u) => u && typeof u.directory === 'string' && typeof u.userId === 'string')
    .filter((u) => !isPlaceholder(u?.directory) && !isPlaceholder(u?.userId))
    .map((u) => ({ directory: String(u?.directory), userId: String(u?.userId) }))
}

function eventBlock(src: ButlerSource, out: SensebusTarget, section: string): Record<string, unknown> {
  const block: Record<string, unknown> = { enabled: true, recipients: src.strings(`${section}.recipients`) }
  if (src.flag(`${section}.alertEnableByCustomProperty.enable`) === true) {
    const name = src.string(`${section}.alertEnableByCustomProperty.customPropertyName`)
    const value = src.string(`${section}.alertEnableByCustomProperty.enabledValue`)
    block.enableByCustomProperty = { enabled: true, ...(name ? { name } : {}), ...(value ? { value } : {}) }
  }
  const sendTo = src.string(`${section}.alertEnabledByEmailAddress.customPropertyName`)
  if (sendTo) block.sendToCustomProperty = sendTo
  const owner = `${section}.appOwnerAlert`
  if (src.flag(`${owner}.enable`) === true)
    block.appOwner = {
      enabled: true,
      includeAll: src.flag(`${owner}.includeOwner.includeAll`) !== false,
      include: owners(src.list(`${owner}.includeOwner.user`)),
      exclude: owners(src.list(`${owner}.excludeOwner.user`)),
    }
  const from = src.string(`${section}.fromAddress`)
  if (from) block.from = from
  const priority = src.string(`${section}.priority`)
  if (priority && PRIORITIES.has(priority)) block.priority = priority
  const subject = src.string(`${section}.subject`)
  if (subject) {
    const eta = handlebarsToEta(subject)
    if (eta) block.subject = eta
    else src.skip(`${section}.subject`, 'uses Handlebars beyond {{field}}: the shipped subject template is used')
  }
  const limit = rateLimitMs(src, `${section}.rateLimit`)
  if (limit !== undefined) block.rateLimitMs = limit
  if (src.has(`${section}.bodyFileDirectory`) || src.has(`${section}.htmlTemplateFile`))
    src.skip(
      `${section}.htmlTemplateFile`,
      "Butler's Handlebars body templates are not read: sensebus renders its eta templates (same field names); " +
        'put your own under templates.dir',
    )
  scriptLogLines(src, out, section)
  return block
}

/** `emailNotification` → per-event mail (`capabilities.alert.email`) and the SMTP server (`mail.smtp`). */
export function mapEmail(src: ButlerSource, out: SensebusTarget): void {
  const root = 'emailNotification'
  if (!src.has(root)) return
  const on = src.flag(`${root}.enable`) === true
  const left: string[] = []
  for (const [key, eventType] of Object.entries(BUTLER_EVENTS)) {
    const section = `${root}.${key}`
    if (!src.has(section)) continue
    if (on && src.flag(`${section}.enable`) === true)
      out.set(`capabilities.alert.email.${eventType}`, eventBlock(src, out, section))
    else left.push(key)
  }
  if (left.length > 0)
    src.note(root, `${left.join(', ')}: off in Butler, so no mail is configured for them (the same in sensebus)`)
  for (const key of SERVICE_EVENTS)
    if (src.has(`${root}.${key}`)) src.skip(`${root}.${key}`, 'Windows service monitoring is not offered by sensebus')
  mapSmtp(src, out, `${root}.smtp`)
}

function mapSmtp(src: ButlerSource, out: SensebusTarget, smtp: string): void {
  const host = src.string(`${smtp}.host`)
  if (!host) return
  const server: Record<string, unknown> = { host }
  const port = src.number(`${smtp}.port`)
  if (port !== undefined) server.port = port
  const secure = src.flag(`${smtp}.secure`)
  if (secure !== undefined) server.secure = secure
  const requireTLS = src.flag(`${smtp}.tls.requireTLS`)
  if (requireTLS !== undefined) server.requireTLS = requireTLS
  const reject = src.flag(`${smtp}.tls.rejectUnauthorized`)
  if (reject !== undefined) server.rejectUnauthorized = reject
  if (src.flag(`${smtp}.auth.enable`) === true) {
    const user = src.string(`${smtp}.auth.user`)
    const password = src.value(`${smtp}.auth.password`)
    if (user) server.user = user
    if (password !== undefined) server.password = String(password)
  }
  out.set('mail.smtp', server)
  if (src.string(`${smtp}.tls.serverName`))
    src.skip(`${smtp}.tls.serverName`, 'not offered: the certificate is checked against smtp.host')
  if (src.flag(`${smtp}.tls.ignoreTLS`) === true)
    src.skip(`${smtp}.tls.ignoreTLS`, 'not offered: sensebus uses STARTTLS whenever the server offers it')
}
