import type { Sender } from './bus.js'

/**
 * What the broker asks before it lets a client in, publish or subscribe. The default policy allows
 * everything a well-formed MQTT 3.1.1 client may do; the security layer replaces it with users,
 * roles and per-topic ACLs.
 */
export interface BrokerPolicy {
  /** Resolves to the identity to attach to the connection, or throws an Error with `returnCode` 4 or 5. */
  authenticate(input: {
    clientId: string
    username?: string
    password?: Buffer
    transport: Sender['transport']
    certSubject?: string
  }): Promise<Omit<Sender, 'clientId' | 'transport'>>
  /** False closes the client's connection ([MQTT-3.3.5-2]); keep it for ACLs, never payload checks. */
  canPublish(sender: Sender, topic: string): boolean
  /** False answers the subscription with return code 128 in SUBACK. */
  canSubscribe(sender: Sender, filter: string): boolean
  /** The connection this sender stood for has closed (release whatever it held). */
  disconnected?(sender: Sender): void
}

export const openPolicy: BrokerPolicy = {
  async authenticate({ username }) {
    return username === undefined ? {} : { username }
  },
  canPublish: () => true,
  canSubscribe: () => true,
}
