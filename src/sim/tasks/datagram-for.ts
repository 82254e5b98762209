import type { SimFaults } from '../faults.js'
import type { SimModel } from '../model/store.js'
import type { SimExecutionSession, SimTask } from '../model/types.js'
import type { UnconfirmedDetails } from '../unconfirmed.js'
import { datagramType, formatDatagram, type DatagramKind } from '../udp/datagram.js'

export type TaskEnding = 'success' | 'failed' | 'aborted'

interface Deps {
  model: SimModel
  texts: UnconfirmedDetails
  faults: SimFaults
}

/**
 * The datagram the shipped LocalLogConfig.xml would emit for this ending, or null when no appender
 * matches (QLIK-PROTOCOLS §3.2, §3.4, §4.5 "per task type").
 */
export function datagramFor(
  { model, texts, faults }: Deps,
  task: SimTask,
  session: SimExecutionSession,
  ending: TaskEnding,
  user: string,
  date: Date,
): string | null {
  const d = texts.datagram
  // §3.3 field 3/6: user sync, external program and distribute lines carry no app.
  const withApp = task.taskType === 0 || task.taskType === 4
  const app = withApp && task.appId ? model.apps.get(task.appId) : undefined
  let kind: DatagramKind
  let message: string
  let level = d.level
  if (task.taskType === 3) {
    // The distribute appender fires on completion whatever the result (§3.4).
    kind = 'distribute'
    message = d.distributeMessage
  } else if (ending === 'success') {
    kind = 'success'
    message = d.successMessage
  } else if (ending === 'aborted') {
    kind = 'aborted'
    message = d.abortedMessage
  } else {
    if (task.taskType === 2 && !d.userSyncFailureSendsDatagram) return null
    kind = 'failed'
    message = task.taskType === 4 ? d.preloadFailedMessage : d.failedMessage
    if (task.taskType === 4) level = d.preloadFailedLevel
  }
  return formatDatagram(datagramType(kind, faults), {
    hostName: model.executingNode().hostName,
    taskName: task.name,
    appName: app?.name ?? '',
    user,
    taskId: task.id,
    appId: app?.id ?? '',
    date,
    level,
    executionId: session.id,
    message,
  })
}
