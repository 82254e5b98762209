import type { AuditRecord } from '../core/dispatch.js'
import { event } from '../core/envelope.js'
import type { Transport, Via } from '../core/identity.js'
import { infoLineWriter, type JsonFields, type Logger } from '../log.js'

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

/** Characters a JSON string must escape, and lone surrogates (escaped by well-formed JSON.stringify). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/

/** The JSON of a string: most audit strings (names, ids, outcomes) need no escaping, so skip the encoder. */
const str = (v: string): string => (NEEDS_ESCAPE.test(v) ? JSON.stringify(v) : `"${v}"`)

/** The JSON of a value an entry holds (strings, numbers, string arrays), as JSON.stringify writes it. */
function json(v: string | number | readonly string[]): string {
  if (typeof v === 'string') return str(v)
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null'
  return `[${v.map(str).join(',')}]`
}

/**
 * The entry as the fields of its log line, in the order of AuditEntry, undefined ones left out: what pino
 * writes for `log.info(entry)`, encoded directly because one line per request made pino's object walk a
 * measurable part of each request's cost (issue #10).
 */
export function auditFields(e: AuditEntry): JsonFields {
  let s = `,"capability":${json(e.capability)}`
  if (e.transaction !== undefined) s += `,"transaction":${json(e.transaction)}`
  s += `,"via":${json(e.via)},"transport":${json(e.transport)}`
  if (e.clientId !== undefined) s += `,"clientId":${json(e.clientId)}`
  if (e.username !== undefined) s += `,"username":${json(e.username)}`
  if (e.tokenName !== undefined) s += `,"tokenName":${json(e.tokenName)}`
  if (e.roles !== undefined) s += `,"roles":${json(e.roles)}`
  if (e.origin !== undefined) s += `,"origin":${json(e.origin)}`
  s += `,"outcome":${json(e.outcome)},"durationMs":${json(e.durationMs)}`
  if (e.jobId !== undefined) s += `,"jobId":${json(e.jobId)}`
  return s
}

export function createAuditor(opts: AuditorOptions): Auditor {
  const line = opts.log && infoLineWriter(opts.log, 'request', auditFields)
  /** `entry.transaction` already shortened: the dispatcher's path builds one object per request, no copy. */
  const write = (entry: AuditEntry) => {
    line?.(entry)
    opts.publish?.(entry).catch((err: unknown) => opts.errors.debug({ err }, 'could not publish an audit event'))
  }
  return {
    dispatched(record) {
      const who = record.identity
      write({
        capability: record.capability,
        transaction: shorten(record.transaction),
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
    refused: (entry) => write({ ...entry, transaction: shorten(entry.transaction) }),
  }
}

/** The CloudEvents envelope an audit entry travels in. */
export function auditEvent(source: string, entry: AuditEntry) {
  return event('sense.audit', source, entry)
}
