import type { AuditEntry } from './audit.js'
import type { BrokerPolicy } from '../broker/policy.js'
import type { Identity } from '../core/identity.js'
import type { Topics } from '../core/topics.js'
import type { UserConfig } from './config.js'
import { DUMMY_PASSWORD_HASH, verifySecret } from './hash.js'
import type { Grants } from './roles.js'
import type { TokenIdentifier } from './tokens.js'

export interface SecurityPolicyOptions {
  topics: Topics
  users: readonly UserConfig[]
  /** Roles of clients without credentials, or undefined when they are refused. */
  anonymousRoles: readonly string[] | undefined
  grantsOf(roles: readonly string[]): Grants
  /** API tokens, accepted as the MQTT password (the browser web view logs in with one). */
  identifyToken?: TokenIdentifier
  /** Writes the audit record of a publish that was acknowledged and dropped. */
  dropped?(entry: AuditEntry): void
}

export interface SecurityPolicy extends BrokerPolicy {
  /** Reply ids used by sensebus' own requesters: no client may read them. */
  reserveReplyId(id: string): void
  /**
   * Whether sensebus may answer this caller on `topic`: a topic the caller could subscribe to, or
   * a private reply topic that is its own.
   */
  mayReplyTo(identity: Identity | undefined, topic: string): boolean
}

function refused(message: string, returnCode: 4 | 5): Error {
  return Object.assign(new Error(message), { returnCode })
}

/** Callers inside the process (the HTTP shim, the scheduler, jobs) answer on sensebus' own reply ids. */
const inProcess = (identity: Identity) => identity.transport === 'internal' || identity.via === 'http'

/**
 * Users, roles and topic ACLs for the embedded broker.
 *
 * Publishing: the trees sensebus answers on (`response`, `event`, `state`, `bridge`, `reply`) are
 * its alone, for every client including admin, so nobody can forge an answer or a retained state.
 * Requests are always accepted by the broker: whether the caller may use the capability is the
 * dispatcher's call, which answers FORBIDDEN instead of the silent disconnect a refused PUBLISH
 * gets ([MQTT-3.3.5-2]).
 *
 * Private reply topics `<base>/reply/<id>/#`: the first connection to subscribe to an id owns it
 * until it disconnects; wildcards over ids are refused (admin aside), so one requester cannot read
 * another's answers. The ids of sensebus' own requesters (the HTTP shim's) are reserved.
 */
export function createSecurityPolicy(opts: SecurityPolicyOptions): SecurityPolicy {
  const { topics } = opts
  const byName = new Map(opts.users.map((u) => [u.username, u]))
  const byCertificate = new Map(opts.users.filter((u) => u.certificateCN).map((u) => [u.certificateCN as string, u]))
  const reserved = new Set<string>()
  const claims = new Map<string, Identity>()
  const grantsOf = (identity: Identity) => opts.grantsOf(identity.roles)

  const claimReply = (identity: Identity, filter: string): boolean => {
    const id = topics.replyIdOf(filter) ?? ''
    if (id === '' || id === '+' || id === '#' || reserved.has(id)) return false
    const owner = claims.get(id)
    if (owner && owner !== identity) return false
    claims.set(id, identity)
    return true
  }

  return {
    async authenticate({ username, password, certSubject }) {
      const certUser = certSubject === undefined ? undefined : byCertificate.get(certSubject)
      if (certUser) {
        if (username !== undefined && username !== certUser.username)
          throw refused('user name does not match the client certificate', 4)
        return { user: certUser.username, roles: [...certUser.roles] }
      }
      if (username === undefined) {
        if (opts.anonymousRoles) return { roles: [...opts.anonymousRoles] }
        throw refused('anonymous access is not allowed', 5)
      }
      const user = byName.get(username)
      const secret = password?.toString('utf8') ?? ''
      // Any name that is not a user may log in with an API token as the password: it acts as the token
      // (its name and roles), exactly as over HTTP. A configured user name never falls back to tokens.
      const token = user ? undefined : await opts.identifyToken?.(secret)
      if (token) return { user: token.name, tokenName: token.name, roles: [...token.roles] }
      // Unknown users are checked against a dummy hash so a miss costs as much time as a hit.
      const matches = await verifySecret(secret, user?.passwordHash ?? DUMMY_PASSWORD_HASH)
      if (!user?.passwordHash || password === undefined || !matches) throw refused('bad user name or password', 4)
      return { user: username, roles: [...user.roles] }
    },

    canPublish(identity, topic) {
      if (topics.isOwned(topic)) return false
      if (topics.areaOf(topic) === 'request') return true
      return grantsOf(identity).canPublish(topic)
    },

    onDeniedPublish(identity, topic) {
      if (topics.isOwned(topic)) return 'close'
      opts.dropped?.({
        capability: '(publish)',
        transaction: topic, // the auditor cuts it short, as any caller-chosen string
        via: 'mqtt',
        transport: identity?.transport ?? 'mqtt',
        clientId: identity?.clientId,
        username: identity?.user,
        roles: identity?.roles,
        outcome: 'FORBIDDEN (dropped)',
        durationMs: 0,
      })
      return 'drop'
    },

    canSubscribe(identity, filter) {
      const grants = grantsOf(identity)
      if (grants.isAdmin) return grants.canSubscribe(filter)
      if (topics.areaOf(filter) === 'reply') return claimReply(identity, filter)
      return grants.canSubscribe(filter)
    },

    mayRetain(_identity, topic) {
      // A retained request would be stored and answered again at every restart and costs disk and memory.
      return topics.areaOf(topic) !== 'request'
    },

    canRead(identity, topic) {
      const grants = grantsOf(identity)
      if (grants.isAdmin) return grants.canSubscribe(topic)
      const replyId = topics.replyIdOf(topic)
      if (replyId !== undefined) return claims.get(replyId)?.clientId === identity.clientId
      return grants.canReceive(topic)
    },

    filtersDelivery(identity) {
      return grantsOf(identity).filtersDelivery
    },

    mayReplyTo(identity, topic) {
      // An external broker's client: its own broker decides who reads what.
      if (!identity) return true
      const replyId = topics.replyIdOf(topic)
      if (replyId !== undefined && reserved.has(replyId)) return inProcess(identity)
      const grants = grantsOf(identity)
      if (replyId !== undefined && !grants.isAdmin) return claims.get(replyId)?.clientId === identity.clientId
      return grants.canSubscribe(topic)
    },

    disconnected(identity) {
      for (const [id, owner] of claims) if (owner === identity) claims.delete(id)
    },

    reserveReplyId(id) {
      reserved.add(id)
    },
  }
}
