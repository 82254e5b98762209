import { isIPv4 } from 'node:net'
import type { Logger } from '../log.js'

/** Host names and addresses that only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '')
  if (h === 'localhost' || h === '::1') return true
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h
  return isIPv4(v4) && v4.startsWith('127.')
}

interface Listen {
  enabled: boolean
  host: string
}

/** Where the listeners are and who may log in: what exposure is decided from. */
export interface ExposureView {
  broker: { url?: string | undefined; mqtt: Listen; ws: Listen; mqtts: Listen; wss: Listen }
  http: Listen
  security: { allowAnonymous?: boolean | undefined; anonymousRoles: string[]; users: unknown[]; tokens: unknown[] }
}

/** Every enabled listener as `setting path → host`, so messages can name the one at fault. */
export function enabledListeners(config: ExposureView): Array<{ setting: string; host: string }> {
  const out: Array<{ setting: string; host: string }> = []
  if (!config.broker.url) {
    for (const kind of ['mqtt', 'ws', 'mqtts', 'wss'] as const) {
      const l = config.broker[kind]
      if (l.enabled) out.push({ setting: `broker.${kind}.host`, host: l.host })
    }
  }
  if (config.http.enabled) out.push({ setting: 'http.host', host: config.http.host })
  return out
}

/**
 * Whether clients without credentials get in. Secure by default: only while nothing but this
 * machine can reach sensebus. Binding elsewhere with nobody able to log in is refused outright,
 * since such a service is either useless or wide open.
 */
export function decideAnonymous(config: ExposureView, log: Logger): boolean {
  const { security } = config
  const exposed = enabledListeners(config).filter((l) => !isLoopback(l.host))
  const hasCredentials = security.users.length > 0 || security.tokens.length > 0
  if (security.allowAnonymous === true) {
    if (exposed.length > 0) {
      log.warn(
        { listeners: exposed, anonymousRoles: security.anonymousRoles },
        'security.allowAnonymous is true: anyone who can reach these listeners has the anonymous roles',
      )
    }
    return true
  }
  if (security.allowAnonymous === false) {
    if (!hasCredentials)
      throw new Error(
        'security.allowAnonymous is false but no security.users or security.tokens are configured: nobody could ' +
          'connect',
      )
    return false
  }
  if (exposed.length === 0) return true
  if (!hasCredentials) {
    const where = exposed.map((l) => `${l.setting}: ${l.host}`).join(', ')
    throw new Error(
      `Refusing to start: sensebus would listen beyond this machine (${where}) with no users or tokens configured. ` +
        'Add security.users / security.tokens, bind to 127.0.0.1, or set security.allowAnonymous: true to accept ' +
        'anonymous access.',
    )
  }
  return false
}
