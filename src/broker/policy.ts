import type { Identity, Transport } from '../core/identity.js'

/** What a client presented when it connected. */
export interface ConnectInput {
  clientId: string
  username?: string | undefined
  password?: Buffer | undefined
  transport: Transport
  /** CN of a client certificate the TLS listener verified. */
  certSubject?: string | undefined
}

/**
 * What the broker asks before it lets a client in, publish or subscribe. The default policy allows
 * everything a well-formed MQTT 3.1.1 client may do; the security layer replaces it with users,
 * roles and per-topic ACLs.
 */
export interface BrokerPolicy {
  /**
   * Resolves to the user and roles of the connection (and the API token it used), or throws an Error
   * with `returnCode` 2, 4 or 5.
   */
  authenticate(
    input: ConnectInput,
  ): Promise<{ user?: string | undefined; roles: string[]; tokenName?: string | undefined }>
  /** False refuses the publish (see `onDeniedPublish`); keep it for ACLs, never payload checks. */
  canPublish(identity: Identity, topic: string): boolean
  /**
   * What a refused publish costs the client ([MQTT-3.3.5-2] allows either): `close` the connection
   * (forgery on a tree only the service writes), or `drop` it after acknowledging, as Mosquitto does,
   * so a misconfigured device is not caught in a reconnect loop. Default `close`.
   */
  onDeniedPublish?(identity: Identity | undefined, topic: string): 'close' | 'drop'
  /** False answers the subscription with return code 128 in SUBACK. */
  canSubscribe(identity: Identity, filter: string): boolean
  /** False clears the retain flag of a publish (requests are never retained). */
  mayRetain?(identity: Identity, topic: string): boolean
  /** Whether a message on `topic` may reach this identity; no side effects (unlike claiming a reply id). */
  canRead?(identity: Identity, topic: string): boolean
  /** Whether every message to this identity must pass `canRead` (its grants carve exceptions out of filters). */
  filtersDelivery?(identity: Identity): boolean
  /** The connection this identity stood for has closed (release whatever it held). */
  disconnected?(identity: Identity): void
}

export const openPolicy: BrokerPolicy = {
  async authenticate({ username }) {
    return username === undefined ? { roles: ['admin'] } : { user: username, roles: ['admin'] }
  },
  canPublish: () => true,
  canSubscribe: () => true,
}
