import { log4netDate } from '../time-format.js'
import type { SimFaults } from '../faults.js'

/** The four appender outputs of the shipped LocalLogConfig.xml (QLIK-PROTOCOLS §3.2, §3.4). */
export type DatagramKind = 'failed' | 'aborted' | 'success' | 'distribute'

/** The pattern's properties, in pattern order (§3.3 fields 1-10). */
export interface DatagramFields {
  hostName: string
  taskName: string
  /** Empty for user sync, external program and distribute (§3.3 field 3). */
  appName: string
  /** `DIR\userid`, single backslash on the wire. */
  user: string
  taskId: string
  appId: string
  /** Log event time; rendered as local `yyyy-MM-dd HH:mm:ss,fff`. */
  date: Date
  level: string
  executionId: string
  message: string
}

/** Field 0. §0.6: the shipped success appender has a double trailing slash; legacy names per §3.4. */
export function datagramType(kind: DatagramKind, faults: Pick<SimFaults, 'successSlash' | 'legacyTypeNames'>): string {
  if (faults.legacyTypeNames) {
    if (kind === 'failed') return '/scheduler-reload-failed/'
    if (kind === 'aborted') return '/scheduler-reload-aborted/'
    if (kind === 'success') return '/scheduler-reloadtask-success/'
  }
  switch (kind) {
    case 'failed':
      return '/scheduler-task-failed/'
    case 'aborted':
      return '/scheduler-task-aborted/'
    case 'success':
      return faults.successSlash === 'single' ? '/scheduler-task-success/' : '/scheduler-task-success//'
    default:
      return '/scheduler-distribute/'
  }
}

/**
 * §3.2 conversion pattern: 11 `;`-separated fields, UTF-8, no trailing newline. Fields are not escaped:
 * a `;` inside a name breaks the datagram on a real site too (§3.3).
 */
export function formatDatagram(type: string, f: DatagramFields): string {
  return [
    type,
    f.hostName,
    f.taskName,
    f.appName,
    f.user,
    f.taskId,
    f.appId,
    log4netDate(f.date),
    f.level,
    f.executionId,
    f.message,
  ].join(';')
}

/**
 * A reload-task failure as the scheduler's appender sends it, numbered `i` (`App <i>`, fresh task and
 * app ids): the bursts of the alert specs and benches.
 */
export function taskFailureDatagram(i: number, executionId: string, appLabel = 'App'): string {
  return formatDatagram('/scheduler-task-failed/', {
    hostName: 'sense-node-1',
    taskName: `Reload of ${appLabel} ${i}`,
    appName: `${appLabel} ${i}`,
    user: 'INTERNAL\\sa_scheduler',
    taskId: crypto.randomUUID(),
    appId: crypto.randomUUID(),
    date: new Date(),
    level: 'INFO',
    executionId,
    message: `Failure ${i}`,
  })
}
