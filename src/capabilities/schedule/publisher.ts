import type { Bus } from '../../core/bus.js'
import { event } from '../../core/envelope.js'
import { type Topics, topicSegment } from '../../core/topics.js'
import type { Logger } from '../../log.js'
import type { ScheduleView } from './schema.js'

/**
 * What the scheduler tells the bus: each schedule's retained state and its fired/finished/skipped
 * events. Publishes to one topic go out one after another, so a later state never lands before an
 * earlier one; a failed publish is logged, never thrown.
 */
export class SchedulePublisher {
  private readonly publishing = new Map<string, Promise<void>>()
  private readonly source: string

  constructor(
    private readonly bus: Bus,
    private readonly topics: Topics,
    private readonly log: Logger,
  ) {
    this.source = `sensebus/${bus.id}`
  }

  state(id: string, view: ScheduleView): void {
    this.publish(this.stateTopic(id), view, true)
  }

  /** Clears a deleted schedule's retained state. */
  cleared(id: string): void {
    this.publish(this.stateTopic(id), '', true)
  }

  event(id: string, what: 'fired' | 'finished' | 'skipped', data: Record<string, unknown>): void {
    const topic = this.topics.event('schedule', topicSegment(id), what)
    this.publish(topic, event(`sense.schedule.${what}`, this.source, data), false)
  }

  /** Retained states of schedules deleted while the broker kept them (a crash between delete and clear). */
  async clearStale(liveIds: Iterable<string>): Promise<void> {
    const held = await this.bus.retained(this.topics.state('schedule', '+'))
    const live = new Set([...liveIds].map((id) => this.stateTopic(id)))
    for (const { topic, payload } of held) if (payload.length > 0 && !live.has(topic)) this.publish(topic, '', true)
  }

  private stateTopic(id: string): string {
    return this.topics.state('schedule', topicSegment(id))
  }

  private publish(topic: string, payload: object | string, retain: boolean): void {
    const previous = this.publishing.get(topic) ?? Promise.resolve()
    const sent = previous.then(() =>
      this.bus.publish(topic, payload, { qos: 1, retain }).catch((err: unknown) => {
        this.log.warn({ err, topic }, 'could not publish')
      }),
    )
    this.publishing.set(topic, sent)
    sent.then(() => {
      if (this.publishing.get(topic) === sent) this.publishing.delete(topic)
    })
  }
}
