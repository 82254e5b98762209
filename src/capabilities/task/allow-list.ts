import type { Task } from '../../sense/qrs/index.js'
import type { TaskConfig } from './schema.js'

/**
 * The start allow-list, applied in the handler so it holds for every door (Butler applied its
 * startTaskFilter to REST only, BUTLER-REFERENCE §12.5). A task may start when its id, one of its tags
 * or one of its custom property values is listed: the additive reading Butler's own config comments
 * describe. A tag or custom-property selector must itself be listed, as in Butler.
 */
export interface AllowList {
  enabled: boolean
  tagSelector(tag: string): boolean
  customPropertySelector(name: string, value: string): boolean
  task(task: Pick<Task, 'id' | 'tags' | 'customProperties'>): boolean
}

export function allowList(config: TaskConfig['allow']): AllowList {
  if (!config.enable) {
    return { enabled: false, tagSelector: () => true, customPropertySelector: () => true, task: () => true }
  }
  // GUIDs compare case-insensitively (QRS does); tag and property names as QRS filters do, too.
  const ids = new Set(config.taskIds.map((id) => id.toLowerCase()))
  const tags = new Set(config.tags.map((t) => t.toLowerCase()))
  const cpKey = (name: string, value: string) => `${name.toLowerCase()}\u0000${value.toLowerCase()}`
  const cps = new Set(config.customProperties.map((cp) => cpKey(cp.name, cp.value)))
  return {
    enabled: true,
    tagSelector: (tag) => tags.has(tag.toLowerCase()),
    customPropertySelector: (name, value) => cps.has(cpKey(name, value)),
    task: (task) =>
      ids.has(task.id.toLowerCase()) ||
      (task.tags ?? []).some((t) => tags.has(t.name.toLowerCase())) ||
      (task.customProperties ?? []).some((cp) => cps.has(cpKey(cp.definition.name, cp.value))),
  }
}
