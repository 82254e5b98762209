import { capabilityWith } from '../../core/capability.js'
import type { AllowList } from './allow-list.js'
import type { TaskConfig } from './schema.js'
import type { ExecutionWatcher } from './watcher.js'

export interface TaskState {
  watcher: ExecutionWatcher
  /** The allow-list of a config slice (built once per slice). */
  allow(config: TaskConfig): AllowList
  stopStartTopic?: () => Promise<void>
}

export const taskCapability = capabilityWith<TaskState, TaskConfig>()
