import type { Sender } from '../broker/bus.js'
import type { AuditRecord } from '../core/dispatch.js'
import { event } from '../core/envelope.js'
import type { Logger } from '../log.js'

/** One line per request: who, what, how it ended and how long it took. Never the request body. */
export interface AuditEntry {
  capability: string
  transaction: string | undefined
  transport: Sender['transport'] | 'http'
  clientId: string | undefined
  username: string | undefined
  roles: readonly string[] | undefined
  outcome: string
  durationMs: number
}

/** Who made an HTTP call, looked up by the transaction the shim gave its bus request. */
export type HttpCallerLookup = (
  transaction: string | undefined,
) => { name: string | undefined; roles: readonly string[] } | undefined

export interface AuditorOptions {
  log: Logger
  /** Publishes the entry as an event (`<base>/event/audit`), when enabled in config. */
  publish?: (entry: AuditEntry) => Promise<void>
  httpCallerOf: HttpCallerLookup
}

export interface Auditor {
  /** The dispatcher's record, enriched with the HTTP caller when the shim made the request. */
  dispatched(record: AuditRecord): void
  /** A call refused before it reached the bus (HTTP 401/403). */
  refused(entry: AuditEntry): void
}

export function createAuditor(opts: AuditorOptions): Auditor {
  const write = (entry: AuditEntry) => {
    opts.log.info(entry, 'request')
    opts.publish?.(entry).catch((err: unknown) => opts.log.debug({ err }, 'could not publish an audit event'))
  }
  return {
    dispatched(record) {
      const caller = record.clientId === undefined ? opts.httpCallerOf(record.transaction) : undefined
      write({
        capability: record.capability,
        transaction: record.transaction,
        transport: caller ? 'http' : (record.transport ?? 'internal'),
        clientId: record.clientId,
        username: caller ? caller.name : record.username,
        roles: caller ? caller.roles : record.roles,
        outcome: record.outcome,
        durationMs: record.durationMs,
      })
    },
    refused: write,
  }
}

/** The CloudEvents envelope an audit entry travels in. */
export function auditEvent(source: string, entry: AuditEntry) {
  return event('sense.audit', source, entry)
}
