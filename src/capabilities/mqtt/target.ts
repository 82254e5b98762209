import type { TopicAccess } from '../../core/capability.js'
import { CapabilityError } from '../../core/errors.js'
import { isValidPublishTopic, type Topics } from '../../core/topics.js'

/**
 * Whether a caller may have sensebus publish on `topic`. Refused: what no broker would take
 * (wildcards, NUL), the broker's own `$` trees (`$SYS`, `$sensebus`, `$share`), sensebus' trees under
 * the base topic (requests, answers, events, state, bridge, replies: a forged one would be believed),
 * and anything the caller's roles may not publish to themselves ([MQTT-4.7.2-1] for `$`).
 */
export function checkTarget(topic: string, topics: Topics, access: TopicAccess): void {
  if (!isValidPublishTopic(topic)) {
    throw new CapabilityError('VALIDATION_FAILED', 'topic must be a topic name: no + or # wildcards, no NUL', {
      details: [{ path: '/topic', message: 'is not a valid topic name' }],
    })
  }
  if (topic.startsWith('$')) {
    throw new CapabilityError('FORBIDDEN', `'${topic}' is reserved: topics starting with $ belong to the broker`, {
      details: { topic },
    })
  }
  const area = topics.areaOf(topic)
  if (area !== undefined) {
    throw new CapabilityError('FORBIDDEN', `'${topic}' is reserved: ${topics.base}/${area}/ is sensebus' own tree`, {
      details: { topic },
    })
  }
  if (!access.canPublish(topic)) {
    throw new CapabilityError(
      'FORBIDDEN',
      `Your roles may not publish to '${topic}' (a role's publish patterns in security.roles grant it)`,
      { details: { topic } },
    )
  }
}
