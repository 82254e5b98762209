/**
 * The log appender's datagram (QLIK-PROTOCOLS §3.2-3.4): `type;host;task;app;user;taskId;appId;date;level;
 * executionId;message`, UTF-8, no newline. Unlike Butler's exact-11-fields rule, fields past the tenth are
 * joined back into the message, so a `;` inside the log message keeps the event.
 */

/** Which appender sent it; `distribute` fires on completion whatever the result (§3.4). */
export type DatagramKind = 'failed' | 'aborted' | 'success' | 'distribute'

export interface TaskDatagram {
  kind: DatagramKind
  /** Field 0 as sent (lower-cased), for logs and diagnostics. */
  typeString: string
  hostName: string
  taskName: string
  appName: string
  /** `DIRECTORY\userid`. */
  user: string
  taskId: string
  /** Empty for user sync, external program and distribute tasks. */
  appId: string
  /** log4net local time `yyyy-MM-dd HH:mm:ss,fff`, as sent. */
  logTimeStamp: string
  logLevel: string
  executionId: string
  logMessage: string
}

/** Field 0 → kind: the shipped names, the shipped success typo (`//`), and the legacy names (§3.4). */
const TYPES: Record<string, DatagramKind> = {
  '/scheduler-task-failed/': 'failed',
  '/scheduler-reload-failed/': 'failed',
  '/scheduler-reloadtask-failed/': 'failed',
  '/scheduler-task-aborted/': 'aborted',
  '/scheduler-reload-aborted/': 'aborted',
  '/scheduler-task-success/': 'success',
  '/scheduler-task-success//': 'success',
  '/scheduler-reloadtask-success/': 'success',
  '/scheduler-distribute/': 'distribute',
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const FIELDS = 11

export type ParseResult = { ok: true; datagram: TaskDatagram } | { ok: false; reason: string }

/** Control characters out (they would break logs, headers and templates), each field cut to `maxField`. */
export function sanitizeField(value: string, maxField: number): string {
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, '').trim()
  return clean.length > maxField ? clean.slice(0, maxField) : clean
}

export function parseDatagram(text: string, maxField = 500): ParseResult {
  const parts = text.split(';')
  const typeString = (parts[0] ?? '').trim().toLowerCase()
  const kind = TYPES[typeString]
  if (!kind) return { ok: false, reason: `unknown message type '${typeString.slice(0, 60)}'` }
  if (parts.length < FIELDS) return { ok: false, reason: `expected ${FIELDS} fields, got ${parts.length}` }
  const f = (i: number) => sanitizeField(parts[i] ?? '', maxField)
  const message = sanitizeField(parts.slice(FIELDS - 1).join(';'), maxField)
  const datagram: TaskDatagram = {
    kind,
    typeString,
    hostName: f(1),
    taskName: f(2),
    appName: f(3),
    user: f(4),
    taskId: f(5).toLowerCase(),
    appId: f(6).toLowerCase(),
    logTimeStamp: f(7),
    logLevel: f(8),
    executionId: f(9).toLowerCase(),
    logMessage: message,
  }
  if (!GUID.test(datagram.taskId)) return { ok: false, reason: 'task id is not a GUID' }
  if (datagram.appId !== '' && !GUID.test(datagram.appId)) return { ok: false, reason: 'app id is not a GUID' }
  if (!GUID.test(datagram.executionId)) return { ok: false, reason: 'execution id is not a GUID' }
  return { ok: true, datagram }
}
