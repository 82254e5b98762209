import { asMap, type ButlerSource, isPlaceholder } from './source.js'
import type { SensebusTarget } from './target.js'

const text = (v: unknown): string | undefined =>
  (typeof v === 'string' || typeof v === 'number') && String(v).trim() !== '' && !isPlaceholder(v)
    ? String(v)
    : undefined

function pairs(src: ButlerSource, key: string, out: SensebusTarget): void {
  const list: Array<{ fromDirectory: string; toDirectory: string }> = []
  for (const [i, item] of src.list(key).entries()) {
    const from = text(asMap(item)?.fromDirectory)
    const to = text(asMap(item)?.toDirectory)
    if (from && to) list.push({ fromDirectory: from, toDirectory: to })
    else src.skip(`${key}[${i}]`, 'needs fromDirectory and toDirectory')
  }
  if (list.length > 0) out.set(`capabilities.file.${key}`, list)
}

/** Approved directories, the QVD root and the start-task filter. */
export function mapFilesAndTasks(src: ButlerSource, out: SensebusTarget): void {
  pairs(src, 'fileCopyApprovedDirectories', out)
  pairs(src, 'fileMoveApprovedDirectories', out)
  const deletable = src.strings('fileDeleteApprovedDirectories')
  if (deletable.length > 0) out.set('capabilities.file.fileDeleteApprovedDirectories', deletable)
  const qvdPath = src.string('configDirectories.qvdPath')
  if (qvdPath) out.set('capabilities.file.qvdPath', qvdPath)
  if (src.flag('restServerEndpointsEnable.createDir') === true)
    src.note(
      'restServerEndpointsEnable.createDir',
      'Butler created directories anywhere; sensebus only under capabilities.file.dirCreateApprovedDirectories, ' +
        'which the import leaves empty (dir/create answers FORBIDDEN until you list directories)',
    )

  const allow = 'startTaskFilter.allowTask'
  const enable = src.flag('startTaskFilter.enable')
  const taskIds = src.strings(`${allow}.taskId`)
  const tags = src.strings(`${allow}.tag`)
  const customProperties: Array<{ name: string; value: string }> = []
  for (const [i, item] of src.list(`${allow}.customProperty`).entries()) {
    const name = text(asMap(item)?.name)
    const value = text(asMap(item)?.value)
    if (name && value !== undefined) customProperties.push({ name, value })
    else src.skip(`${allow}.customProperty[${i}]`, 'needs name and value')
  }
  if (enable === true || taskIds.length + tags.length + customProperties.length > 0)
    out.set('capabilities.task.allow', { enable: enable === true, taskIds, tags, customProperties })
  if (enable === true) noteWiderFilter(src)
}

/**
 * Butler checked its start-task filter on the REST start endpoint only (BUTLER-REFERENCE §7.2); sensebus'
 * allow-list holds on every door. Tasks Butler started through its other doors must be listed to go on
 * starting, and the report names the doors this Butler had open.
 */
function noteWiderFilter(src: ButlerSource): void {
  const doors = [
    src.flag('mqttConfig.enable') === true && src.string('mqttConfig.taskStartTopic')
      ? `the MQTT start topic (${src.string('mqttConfig.taskStartTopic')})`
      : undefined,
    src.flag('scheduler.enable') === true ? 'schedules' : undefined,
    src.flag('restServerEndpointsEnable.senseAppReload') === true ? "app reloads' follow-up tasks" : undefined,
  ].filter((d): d is string => d !== undefined)
  src.note(
    'startTaskFilter',
    'carried over as capabilities.task.allow, which sensebus applies to every start; Butler applied it to ' +
      `its REST start endpoint only${doors.length ? `, not to ${doors.join(', ')}` : ''}. A task those start ` +
      'must now be listed (its id, a tag or a custom property value), or its start is denied',
  )
}
