/**
 * Who is asking. Every request carries one, whatever door it came through, so grants, allow-lists,
 * audit and per-caller limits are decided once, in the dispatcher.
 */

/** The door a request came through. */
export type Via = 'mqtt' | 'http' | 'cli' | 'scheduler' | 'internal'

/** The wire it arrived on. */
export type Transport = 'mqtt' | 'mqtts' | 'ws' | 'wss' | 'http' | 'https' | 'internal'

export interface Identity {
  via: Via
  transport: Transport
  /** MQTT user name, or the user an API token belongs to; undefined = anonymous. */
  user?: string | undefined
  roles: readonly string[]
  /** MQTT client id (MQTT and CLI callers). */
  clientId?: string | undefined
  /** Name of the API token (HTTP callers). */
  tokenName?: string | undefined
  /** The caller's network address (HTTP callers), for per-caller limits. */
  remote?: string | undefined
  /** What acted on the caller's behalf: a schedule id, a job id. */
  origin?: string | undefined
}

/**
 * sensebus' own work (bridge upkeep, alert pipelines): explicit, audited, and never a default. A
 * request without an identity is refused, so no in-process sender skips authorization by accident.
 */
export function systemIdentity(origin: string): Identity {
  return { via: 'internal', transport: 'internal', user: 'sensebus', roles: ['admin'], origin }
}

/** The same caller acting later or through something else (a schedule, a follow-up task). */
export function actingFor(identity: Identity, via: Via, origin: string): Identity {
  return { ...identity, via, transport: 'internal', origin }
}

/** One key per caller, for per-caller limits: the connection, else the token, else the address, else the user. */
export function callerKey(identity: Identity): string {
  if (identity.clientId !== undefined) return `c:${identity.clientId}`
  if (identity.tokenName !== undefined) return `t:${identity.tokenName}`
  if (identity.remote !== undefined) return `r:${identity.remote}`
  return `u:${identity.user ?? 'anonymous'}:${identity.via}:${identity.origin ?? ''}`
}

/** CLI verbs connect with this client-id prefix, so audit lines can tell an admin at a prompt apart. */
export const CLI_CLIENT_PREFIX = 'sensebus-cli-'
