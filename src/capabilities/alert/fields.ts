import type { CustomPropertyValue, TagCondensed } from '../../sense/qrs/index.js'
import { VERSION } from '../../version.js'
import type { AlertConfig } from './config.js'
import type { TaskDatagram } from './datagram.js'
import type { Enrichment } from './enrich.js'
import { durationParts, isNever, renderTimes } from './times.js'

/**
 * The data every template sees as `it`: Butler's template field names (BUTLER-REFERENCE §3.8), so a
 * Butler template's variables carry over one to one, plus ours (eventType, incomplete, problems, …).
 */

const STATUS_TEXT = [
  'NeverStarted',
  'Triggered',
  'Started',
  'Queued',
  'AbortInitiated',
  'Aborting',
  'Aborted',
  'FinishedSuccess',
  'FinishedFail',
  'Skipped',
  'Retry',
  'Error',
  'Reset',
  'DistributionQueue',
  'DistributionRunning',
]

const nameValues = (cps: CustomPropertyValue[] | undefined) =>
  (cps ?? []).map((cp) => ({ name: cp.definition?.name ?? '', value: cp.value }))
const tagNames = (tags: TagCondensed[] | undefined) => (tags ?? []).map((t) => t.name)

function splitLog(log: string | undefined, head: number, tail: number) {
  if (log === undefined) return { rows: 0, chars: 0, head: '', tail: '', headCount: 0, tailCount: 0 }
  const lines = log.split('\r\n')
  if (lines[lines.length - 1] === '') lines.pop()
  const headLines = lines.slice(0, head)
  const tailLines = tail === 0 ? [] : lines.slice(-tail)
  return {
    rows: lines.length,
    chars: log.length,
    head: headLines.join('\r\n'),
    tail: tailLines.join('\r\n'),
    headCount: headLines.length,
    tailCount: tailLines.length,
  }
}

export interface AlertMeta {
  alertId: string
  eventType: string
  receivedAt: string
}

export function buildFields(meta: AlertMeta, d: TaskDatagram, e: Enrichment, config: AlertConfig) {
  const { task, execution, app } = e
  const links = config.links
  const start = renderTimes(execution?.startTime)
  const stop = renderTimes(execution?.stopTime)
  const details = [...(execution?.details ?? [])]
    .sort((a, b) => a.detailCreatedDate.localeCompare(b.detailCreatedDate))
    .map((x) => {
      const t = renderTimes(x.detailCreatedDate)
      return {
        timestampUTC: t.utc,
        timestampLocal1: t.local1,
        timestampLocal2: t.local2,
        timestampLocal3: t.local3,
        timestampLocal4: t.local4,
        timestampLocal5: t.local5,
        message: x.message,
        detailsType: x.detailsType,
      }
    })
  const concatenated = details.map((x) => `${x.timestampUTC}\t${x.message}`).join('\r\n')
  const log = splitLog(e.scriptLog, config.enrichment.scriptLogHeadLines, config.enrichment.scriptLogTailLines)
  const next = task?.operational?.nextExecution
  const appId = d.appId || app?.id || task?.app?.id || ''
  const status = execution?.status
  return {
    alertId: meta.alertId,
    eventType: meta.eventType,
    receivedAt: meta.receivedAt,
    incomplete: e.problems.length > 0,
    problems: e.problems,
    suppressedCount: 0,
    sensebusVersion: VERSION,
    butlerVersion: VERSION,
    hostName: d.hostName,
    user: d.user,
    taskName: d.taskName || task?.name || '',
    taskId: d.taskId,
    taskType: task?.taskType ?? null,
    taskCustomProperties: nameValues(task?.customProperties),
    taskTags: tagNames(task?.tags),
    taskIsManuallyTriggered: task?.isManuallyTriggered ?? false,
    taskIsPartialReload: (task as { isPartialReload?: boolean } | undefined)?.isPartialReload ?? false,
    taskMaxRetries: task?.maxRetries ?? null,
    taskModifiedByUsername: task?.modifiedByUserName ?? '',
    taskModifiedDate: task?.modifiedDate ?? '',
    taskSessionTimeout: task?.taskSessionTimeout ?? null,
    taskNextExecution: isNever(next) ? 'Never' : renderTimes(next).utc,
    appName: d.appName || app?.name || '',
    appId,
    appUrl: links.appBase && appId ? `${links.appBase.replace(/\/$/, '')}/${appId}` : '',
    appDescription: app?.description ?? '',
    appFileSize: app?.fileSize ?? null,
    appLastSuccessfulReload: app?.lastReloadTime ?? '',
    appLastModifiedDate: app?.modifiedDate ?? '',
    appLastModifiedByUserName: app?.modifiedByUserName ?? '',
    appPublishTime: app?.publishTime ?? '',
    appPublished: app?.published ?? false,
    appStreamName: app?.stream?.name ?? '',
    appCustomProperties: nameValues(app?.customProperties),
    appTags: tagNames(app?.tags),
    appOwnerName: app?.owner?.name ?? '',
    appOwnerUserId: app?.owner?.userId ?? '',
    appOwnerUserDirectory: app?.owner?.userDirectory ?? '',
    appOwnerEmail: e.ownerEmail ?? '',
    logTimeStamp: d.logTimeStamp,
    logLevel: d.logLevel,
    logMessage: d.logMessage,
    executionId: d.executionId,
    executingNodeName: execution?.executingNodeName ?? '',
    executionDuration: durationParts(execution?.duration),
    executionStartTime: {
      startTimeUTC: start.utc,
      startTimeLocal1: start.local1,
      startTimeLocal2: start.local2,
      startTimeLocal3: start.local3,
      startTimeLocal4: start.local4,
      startTimeLocal5: start.local5,
    },
    executionStopTime: {
      stopTimeUTC: stop.utc,
      stopTimeLocal1: stop.local1,
      stopTimeLocal2: stop.local2,
      stopTimeLocal3: stop.local3,
      stopTimeLocal4: stop.local4,
      stopTimeLocal5: stop.local5,
    },
    executionStatusNum: status ?? null,
    executionStatusText: status === undefined ? '' : (STATUS_TEXT[status] ?? String(status)),
    executionDetails: details,
    executionDetailsConcatenated: concatenated,
    executionDetailsText: concatenated,
    scriptLogSize: execution?.scriptLogSize ?? log.chars,
    scriptLogSizeRows: log.rows,
    scriptLogSizeCharacters: log.chars,
    scriptLogHead: log.head,
    scriptLogTail: log.tail,
    scriptLogHeadCount: log.headCount,
    scriptLogTailCount: log.tailCount,
    qlikSenseQMC: links.qmc ?? '',
    qlikSenseHub: links.hub ?? '',
    genericUrls: links.generic,
  }
}

export type AlertFields = ReturnType<typeof buildFields>
