/**
 * Aedes drops a message for a client when its `brokerCounter` is below the highest one that client
 * has seen: a guard against the duplicates of clustered brokers sharing one emitter. But a retained
 * publish is stored before it is emitted, so a message published just after it overtakes it, and the
 * retained one never reaches the clients subscribed to both (a task's `state/...` after its
 * `event/...`). The embedded broker is one broker that emits each message once: nothing to drop.
 */
const NOTHING_SEEN: Record<string, number> = new Proxy(Object.create(null) as Record<string, number>, {
  get: () => undefined,
  set: () => true,
})

export function keepOutOfOrderMessages(client: object): void {
  ;(client as { duplicates?: Record<string, number> }).duplicates = NOTHING_SEEN
}
