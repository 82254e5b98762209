import type { TopicAccess } from '../core/capability.js'
import type { Identity } from '../core/identity.js'
import type { Topics } from '../core/topics.js'
import type { Logger } from '../log.js'
import type { TlsFiles, TlsListenerConfig } from '../net/tls-config.js'
import { type ServerTlsOptions, serverTlsOptions } from '../net/tls.js'
import { type AuditEntry, type Auditor, createAuditor } from './audit.js'
import { createSecurityPolicy, type SecurityPolicy } from './broker-policy.js'
import type { SecurityConfig } from './config.js'
import { decideAnonymous, type ExposureView } from './exposure.js'
import { isSupportedHash } from './hash.js'
import { createHttpGuard, type HttpGuard } from './http-guard.js'
import { buildRoleTable, grantsFactory, type RegistryGrants, type RoleTable } from './roles.js'
import { tokenIdentifier } from './tokens.js'

/** The parts of the config security reads: its own section and where the listeners are. */
export interface SecurityView extends ExposureView {
  broker: ExposureView['broker'] & { mqtts: TlsListenerConfig; wss: TlsListenerConfig }
  http: ExposureView['http'] & { tls?: TlsFiles | undefined }
  security: SecurityConfig
}

export interface Security {
  policy: SecurityPolicy
  /** Whether clients without credentials are admitted (with `security.anonymousRoles`). */
  anonymous: boolean
  /** The dispatcher's check, for every door. */
  mayCall(identity: Identity, capability: string): boolean
  /**
   * A stored caller acting later (a schedule's owner, a follow-up's caller) with the roles the current
   * settings give it: a user or token removed or narrowed since keeps no rights it no longer has.
   * Live callers and sensebus' own identity are returned as they are.
   */
  refresh(identity: Identity): Identity
  /** Topic rights of a caller as the broker applies them (sensebus' own trees are never publishable). */
  accessOf(identity: Identity): TopicAccess
  http: HttpGuard
  auditor: Auditor
  tls: { mqtts?: ServerTlsOptions; wss?: ServerTlsOptions; http?: ServerTlsOptions }
}

export interface SecurityOptions {
  config: SecurityView
  topics: Topics
  /** Which capabilities the grantable built-in roles get, from the registry. */
  registry: RegistryGrants
  /** The root logger: security and audit get their own children. */
  log: Logger
  /** Where audit events go when `security.audit.publish` is on. */
  publishAudit: (entry: AuditEntry) => Promise<void>
  /** Told of every HTTP call refused before it reached the bus (metrics). */
  onRefused?: (entry: AuditEntry) => void
}

/**
 * Every problem of the security settings at once. Also what `sensebus config check` runs, so a file
 * that passes the check starts.
 */
export function securityProblems(security: SecurityConfig, roles: RoleTable): string[] {
  const problems: string[] = []
  const unknownRoles = (where: string, list: readonly string[]) => {
    for (const r of list)
      if (!roles.has(r)) problems.push(`${where}: unknown role '${r}' (known: ${[...roles.keys()].join(', ')})`)
  }
  const seen = (what: string) => {
    const set = new Set<string>()
    return (where: string, value: string) => {
      if (set.has(value)) problems.push(`${where}: ${what} '${value}' appears twice`)
      set.add(value)
    }
  }
  const username = seen('user name')
  const cn = seen('certificateCN')
  const tokenName = seen('token name')
  unknownRoles('security.anonymousRoles', security.anonymousRoles)
  security.users.forEach((u, i) => {
    username(`security.users[${i}]`, u.username)
    if (u.certificateCN) cn(`security.users[${i}]`, u.certificateCN)
    // The hash itself is never echoed: config errors end up in logs.
    if (u.passwordHash !== undefined && !isSupportedHash(u.passwordHash))
      problems.push(`security.users[${i}].passwordHash: not a hash from 'sensebus passwd'`)
    unknownRoles(`security.users[${i}].roles`, u.roles)
  })
  security.tokens.forEach((t, i) => {
    tokenName(`security.tokens[${i}]`, t.name)
    if (!isSupportedHash(t.hash)) problems.push(`security.tokens[${i}].hash: not a hash from 'sensebus token'`)
    unknownRoles(`security.tokens[${i}].roles`, t.roles)
  })
  return problems
}

function loadTls(config: SecurityView): Security['tls'] {
  const tls: Security['tls'] = {}
  if (!config.broker.url) {
    for (const kind of ['mqtts', 'wss'] as const) {
      const l = config.broker[kind]
      if (l.enabled && l.tls) tls[kind] = serverTlsOptions(l.tls, l.clientCertificates, `broker.${kind}.tls`)
    }
  }
  if (config.http.enabled && config.http.tls) tls.http = serverTlsOptions(config.http.tls, 'none', 'http.tls')
  return tls
}

/**
 * Users, roles, tokens, TLS material and audit, built once from config before any listener opens.
 * Throws with a clear message on anything that would leave sensebus less safe than configured.
 */
/** The roles the settings give a caller now: its token's, else its user's, else anonymous ones (if admitted). */
function currentRoles(
  security: SecurityConfig,
  anonymousRoles: readonly string[] | undefined,
  identity: Identity,
): readonly string[] {
  if (identity.tokenName !== undefined) return security.tokens.find((t) => t.name === identity.tokenName)?.roles ?? []
  if (identity.user !== undefined) return security.users.find((u) => u.username === identity.user)?.roles ?? []
  return anonymousRoles ?? []
}

export function createSecurity(opts: SecurityOptions): Security {
  const { config, topics } = opts
  const log = opts.log.child({ area: 'security' })
  const roles = buildRoleTable(config.security.roles, topics, opts.registry)
  const problems = securityProblems(config.security, roles)
  if (problems.length > 0) {
    throw new Error(`Security configuration has problems:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
  }
  const anonymous = decideAnonymous(config, log)
  const anonymousRoles = anonymous ? config.security.anonymousRoles : undefined
  const grantsOf = grantsFactory(roles, topics)
  const tls = loadTls(config)

  // Audit lines are built from fixed fields (never a request body or a secret), so they skip the
  // redaction pass every other line gets: it was a measurable part of each request's cost (issue #10).
  const auditLog = opts.log.child({ area: 'audit' }, { redact: { paths: [] } })
  const auditor = createAuditor({
    log: config.security.audit.log ? auditLog : undefined,
    errors: auditLog,
    ...(config.security.audit.publish ? { publish: opts.publishAudit } : {}),
  })
  const identifyToken = tokenIdentifier(config.security.tokens)
  const http = createHttpGuard({
    identify: identifyToken,
    anonymousRoles,
    grantsOf,
    refused: (e) => {
      auditor.refused(e)
      opts.onRefused?.(e)
    },
  })
  const policy = createSecurityPolicy({
    topics,
    users: config.security.users,
    anonymousRoles,
    grantsOf,
    identifyToken,
    dropped: (e) => auditor.refused(e),
  })
  log.info(
    { anonymous, users: config.security.users.length, tokens: config.security.tokens.length, tls: Object.keys(tls) },
    'security settings',
  )
  return {
    policy,
    anonymous,
    mayCall: (identity, capability) => grantsOf(identity.roles).canCall(capability),
    refresh: (identity) => {
      if (identity.transport !== 'internal' || identity.via === 'internal') return identity
      return { ...identity, roles: currentRoles(config.security, anonymousRoles, identity) }
    },
    accessOf: (identity) => ({
      canPublish: (topic) => policy.canPublish(identity, topic) && topics.areaOf(topic) !== 'request',
      canSubscribe: (filter) => grantsOf(identity.roles).canSubscribe(filter),
      kvNamespace: (namespace) => grantsOf(identity.roles).kvNamespace(namespace),
    }),
    http,
    auditor,
    tls,
  }
}
