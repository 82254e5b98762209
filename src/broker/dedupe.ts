/**
 * Aedes drops a message for a client when its `brokerCounter` is not above the highest one that client
 * has seen. That catches the copies overlapping subscriptions make (same counter), but a retained
 * publish is stored before it is emitted, so a message published just after it overtakes it, and the
 * retained one never reached the clients subscribed to both (a task's `state/...` after its
 * `event/...`). Here a copy is dropped only when that very message was already delivered.
 */

type Deliver = (packet: DeliveredPacket, cb: () => void) => void
interface DeliveredPacket {
  brokerId?: string | null
  brokerCounter?: number
}
interface AedesClient {
  duplicates?: Record<string, number>
  deliver0: Deliver
  deliverQoS: Deliver
}

/** Messages remembered per client: overlapping subscriptions deliver their copies within one emit. */
const REMEMBERED = 256
const CHECKED = Symbol('sensebus.deduped')

/** Aedes' own max-counter check sees nothing, so it never drops an out-of-order message. */
const NOTHING_SEEN: Record<string, number> = new Proxy(Object.create(null) as Record<string, number>, {
  get: () => undefined,
  set: () => true,
})

export function dedupeByMessage(handle: object): void {
  const client = handle as AedesClient
  client.duplicates = NOTHING_SEEN
  const recent: string[] = []
  const seen = new Set<string>()
  const wrap =
    (deliver: Deliver): Deliver =>
    (packet, cb) => {
      const marked = packet as DeliveredPacket & { [CHECKED]?: true }
      // deliverQoS hands a QoS 0 copy on to deliver0: that is the same delivery, checked once.
      if (packet.brokerId && packet.brokerCounter !== undefined && !marked[CHECKED]) {
        const key = `${packet.brokerId}:${packet.brokerCounter}`
        if (seen.has(key)) return setImmediate(cb)
        seen.add(key)
        recent.push(key)
        if (recent.length > REMEMBERED) seen.delete(recent.shift() as string)
        marked[CHECKED] = true
      }
      deliver(packet, cb)
    }
  // Read by Aedes when a subscription is made (after CONNECT), so replacing them here covers every one.
  client.deliver0 = wrap(client.deliver0)
  client.deliverQoS = wrap(client.deliverQoS)
}
