import type { CapabilityModule } from '../../core/capability.js'
import { mapChat, mapWebhooks } from './chat.js'
import { mapEmail } from './email.js'
import { mapFilesAndTasks } from './files.js'
import { mapLinks, mapMqtt, mapUdp } from './mqtt-udp.js'
import { mapRest } from './rest.js'
import { mapSense } from './sense.js'
import { ButlerSource, type ReportLine } from './source.js'
import { SensebusTarget } from './target.js'
import { mapGeneral } from './unsupported.js'

export { ButlerImportError, type ReportLine } from './source.js'
export { importSchedules, type ScheduleImport } from './schedules.js'

export interface ButlerImport {
  /** The sensebus config: only settings that differ from sensebus' defaults. */
  config: Record<string, unknown>
  /** Butler settings that could not be carried over, each with why. */
  skipped: ReportLine[]
  /** Settings carried over in another form ("carried over as …"). */
  notes: ReportLine[]
  /** Butler's `scheduler.enable`: whether its schedules ran at all. */
  schedulerEnabled: boolean | undefined
  /** The task ids the imported allow-list names, when it is on (schedules starting others are reported). */
  allowedTaskIds: string[] | undefined
}

/**
 * Butler's `production.yaml` (text) as a sensebus config. `modules` are the capability modules: their
 * routes name the Butler endpoint flag they answer to, which decides what `capabilities.disabled` lists.
 */
export function importButlerConfig(text: string, name: string, modules: CapabilityModule[]): ButlerImport {
  const src = ButlerSource.parse(text, name)
  const out = new SensebusTarget()
  mapGeneral(src, out)
  mapSense(src, out)
  mapRest(src, out, modules)
  mapFilesAndTasks(src, out)
  mapUdp(src, out)
  mapLinks(src, out)
  mapEmail(src, out)
  mapChat(src, out, 'slack')
  mapChat(src, out, 'teams')
  mapWebhooks(src, out)
  mapMqtt(src, out)
  if (src.has('scheduler.configfile'))
    src.note('scheduler', 'schedules are not config in sensebus: import the schedule file with --schedules')
  src.reportUnhandled()
  const allow = out.get('capabilities.task.allow') as { enable: boolean; taskIds: string[] } | undefined
  return {
    config: out.config,
    skipped: src.skipped,
    notes: src.notes,
    schedulerEnabled: src.flag('scheduler.enable'),
    allowedTaskIds: allow?.enable ? allow.taskIds : undefined,
  }
}
