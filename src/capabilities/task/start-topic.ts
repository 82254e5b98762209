import type { Bus } from '../../core/bus.js'
import { fail } from '../../core/envelope.js'
import { actingFor } from '../../core/identity.js'
import type { Logger } from '../../log.js'
import { isGuid } from '../../sense/qrs/index.js'
import type { TaskConfig } from './schema.js'

/**
 * Butler's MQTT habit (BUTLER-REFERENCE §2.3): a bare task GUID published on `qliksense/start_task`
 * starts that task. Here it becomes a task/start request under the publisher's own identity, so the
 * grants and the allow-list apply as on every other door, and the outcome is published (Butler only
 * logged it).
 */
export async function listenOnStartTopic(
  bus: Bus,
  config: TaskConfig['startTopic'],
  log: Logger,
): Promise<() => Promise<void>> {
  return bus.subscribe(config.topic, (msg) => {
    const taskId = msg.payload.toString('utf8').trim()
    const transaction = `start_task:${taskId.slice(0, 64)}`
    const answer = async () => {
      const env = isGuid(taskId)
        ? await bus.request(
            'task/start',
            { taskIds: [taskId] },
            // The publisher's rights, answered on sensebus' own reply topic.
            { transaction, ...(msg.identity ? { identity: actingFor(msg.identity, 'mqtt', config.topic) } : {}) },
          )
        : fail(transaction, 'VALIDATION_FAILED', 'The payload must be a bare task GUID')
      await bus.publish(config.resultTopic, { taskId, ...env }, { qos: 1 })
    }
    answer().catch((err: unknown) => log.warn({ err }, 'could not answer a start_task message'))
  })
}
