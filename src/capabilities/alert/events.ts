import type { DatagramKind } from './datagram.js'
import type { DistributeOutcome } from './enrich.js'

/** Event domains by QRS taskType (QLIK-PROTOCOLS §1.9); `task` when QRS could not say. */
export const DOMAINS = ['reload', 'external-program', 'user-sync', 'distribute', 'preload', 'unknown-task'] as const
export type Domain = (typeof DOMAINS)[number]

const BY_TASK_TYPE: Record<number, Domain> = {
  0: 'reload',
  1: 'external-program',
  2: 'user-sync',
  3: 'distribute',
  4: 'preload',
}

const TITLE: Record<Domain, string> = {
  reload: 'Reload task',
  'external-program': 'External program task',
  'user-sync': 'User sync task',
  distribute: 'Distribute task',
  preload: 'Preload task',
  'unknown-task': 'Qlik Sense task',
}

export function domainOf(kind: DatagramKind, taskType: number | undefined, appId: string): Domain {
  if (taskType !== undefined && BY_TASK_TYPE[taskType]) return BY_TASK_TYPE[taskType]
  if (kind === 'distribute') return 'distribute'
  // Without QRS: the appender leaves AppId empty for user sync and external program (§3.3).
  return appId ? 'reload' : 'unknown-task'
}

export function outcomeOf(kind: DatagramKind, distribute?: DistributeOutcome): string {
  if (kind === 'failed') return 'failed'
  if (kind === 'aborted') return 'aborted'
  if (kind === 'success') return 'succeeded'
  return distribute ?? 'unknown'
}

export function eventTitle(domain: Domain, what: string): string {
  return `${TITLE[domain]} ${what === 'unknown' ? 'finished' : what}`
}
