import type { AuditRecord } from '../core/dispatch.js'
import { event } from '../core/envelope.js'
import type { Transport, Via } from '../core/identity.js'
import type { Logger } from '../log.js'

/** One line per request: who, what, how it ended and how long it took. Never the request body. */
export interface AuditEntry {
  capability: string
  transaction: string | number | undefined
  via: Via
  transport: Transport
  clientId: string | undefined
  username: string | undefined
  tokenName?: string | undefined
  roles: readonly string[] | undefined
  origin?: string | undefined
  outcome: string
  durationMs: number
  jobId?: string | undefined
}

export interface AuditorOptions {
  /** Where audit lines go; undefined when `security.audit.log` is off. */
  log: Logger | undefined
  /** Failures to publish are logged here. */
  errors: Logger
  /** Publishes the entry as an event (`<base>/event/audit`), when enabled in config. */
  publish?: (entry: AuditEntry) => Promise<void>
}

export interface Auditor {
  /** The dispatcher's record of an answered request. */
  dispatched(record: AuditRecord): void
  /** A call refused before it reached the bus (HTTP 401/403). */
  refused(entry: AuditEntry): void
}

/** Audit lines name the transaction, but a caller-chosen one is cut short so nobody can flood the log. */
const MAX_LOGGED_TRANSACTION = 64

function shorten(t: string | number | undefined): string | number | undefined {
  return typeof t === 'string' && t.length > MAX_LOGGED_TRANSACTION ? `${t.slice(0, MAX_LOGGED_TRANSACTION)}…` : t
}

export function createAuditor(opts: AuditorOptions): Auditor {
  const write = (entry: AuditEntry) => {
    const logged = { ...entry, transaction: shorten(entry.transaction) }
    opts.log?.info(logged, 'request')
    opts.publish?.(logged).catch((err: unknown) => opts.errors.debug({ err }, 'could not publish an audit event'))
  }
  return {
    dispatched(record) {
      const who = record.identity
      write({
        capability: record.capability,
        transaction: record.transaction,
        via: who?.via ?? 'mqtt',
        transport: who?.transport ?? 'mqtt',
        clientId: who?.clientId,
        username: who?.user,
        tokenName: who?.tokenName,
        roles: who?.roles,
        origin: who?.origin,
        outcome: record.outcome,
        durationMs: record.durationMs,
        jobId: record.jobId,
      })
    },
    refused: write,
  }
}

/** The CloudEvents envelope an audit entry travels in. */
export function auditEvent(source: string, entry: AuditEntry) {
  return event('sense.audit', source, entry)
}
