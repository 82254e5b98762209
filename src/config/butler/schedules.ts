import { parseButlerFile } from '../../capabilities/schedule/butler.js'
import { cronProblem } from '../../capabilities/schedule/next-run.js'
import type { ButlerEntry } from '../../capabilities/schedule/schema.js'
import { isValidZone } from '../../capabilities/schedule/zone.js'
import { ButlerImportError, type ReportLine } from './source.js'

export interface ScheduleImport {
  /** The entries schedule/import will take, as its request body `{butlerSchedule}`. */
  entries: ButlerEntry[]
  skipped: ReportLine[]
  notes: ReportLine[]
}

/**
 * Butler's schedule file (`butlerSchedule:` list), read by the same parser schedule/import uses, each
 * entry checked as the scheduler will check it (cron, time zone), so the written request imports cleanly.
 * `schedulerOn` is Butler's `scheduler.enable`: with Butler's scheduler off, no schedule ran, so none starts.
 * `allowedTaskIds` is the imported allow-list's ids when it is on: Butler's schedules started tasks past its
 * filter, sensebus' do not, so a schedule whose task is not listed by id is reported.
 */
export function importSchedules(
  text: string,
  name: string,
  schedulerOn: boolean | undefined,
  allowedTaskIds?: readonly string[],
): ScheduleImport {
  let parsed: ButlerEntry[]
  try {
    parsed = parseButlerFile(text)
  } catch (err) {
    throw new ButlerImportError(`${name}: ${(err as Error).message}`)
  }
  const entries: ButlerEntry[] = []
  const skipped: ReportLine[] = []
  const notes: ReportLine[] = []
  const allowed = allowedTaskIds ? new Set(allowedTaskIds.map((id) => id.toLowerCase())) : undefined
  for (const [i, entry] of parsed.entries()) {
    const setting = `butlerSchedule[${i}] (${entry.name})`
    const problem = cronProblem(entry.cronSchedule)
    if (problem) {
      skipped.push({ setting, reason: `cronSchedule '${entry.cronSchedule}' ${problem}` })
      continue
    }
    if (entry.timezone !== undefined && entry.timezone !== '' && !isValidZone(entry.timezone)) {
      skipped.push({ setting, reason: `timezone '${entry.timezone}' is not an IANA time zone` })
      continue
    }
    const { timezone, ...rest } = entry
    // Butler treated an empty time zone as the server's; sensebus does so when none is given.
    const kept: ButlerEntry = timezone ? { ...rest, timezone } : rest
    entries.push(schedulerOn === false ? { ...kept, lastKnownState: 'stopped' } : kept)
    if (allowed && !allowed.has(entry.qlikSenseTaskId.toLowerCase()))
      notes.push({
        setting,
        reason:
          `starts task ${entry.qlikSenseTaskId}, which startTaskFilter.allowTask.taskId does not list: sensebus ` +
          "checks schedules against capabilities.task.allow (Butler's scheduler did not), so its runs are denied " +
          'unless the task has a listed tag or custom property value; add the id to capabilities.task.allow.taskIds',
      })
  }
  if (schedulerOn === false && entries.length > 0)
    notes.push({
      setting: 'Butler.scheduler.enable',
      reason: "Butler's scheduler was off, so none of them ran: they are imported stopped (schedule/start starts one)",
    })
  return { entries, skipped, notes }
}
