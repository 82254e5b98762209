import type { Bus } from '../../../core/bus.js'
import type { Outbox } from '../../../services/outbox/index.js'

export const MQTT_KIND = 'alert-mqtt'

export interface MqttPayload {
  topic: string
  /** A JSON value or plain text (Butler's task_failure topic carries the bare task name). */
  message: unknown
  text: boolean
}

/** Events and Butler's topics go through the outbox too, so a restart between receipt and publish loses none. */
export function registerMqtt(outbox: Outbox, bus: Bus): void {
  outbox.register<MqttPayload>(MQTT_KIND, async (item) => {
    const p = item.payload
    await bus.publish(p.topic, p.text ? String(p.message) : (p.message as object), { qos: 1 })
    return { topic: p.topic }
  })
}
