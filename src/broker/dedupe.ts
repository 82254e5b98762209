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

/**
 * One client's memory of what it was sent. A plain object whose set and list come with the first
 * brokered delivery: an idle connection (issue #10; spec/bench/idle.ts) pays for one object and the
 * two replaced methods, not for closures over each piece of state.
 */
class Delivered {
  private seen: Set<string> | undefined
  private recent: string[] | undefined

  constructor(
    readonly deliver0: Deliver,
    readonly deliverQoS: Deliver,
  ) {}

  /** True when this very message was already delivered; otherwise remembers it. */
  repeated(packet: DeliveredPacket): boolean {
    const marked = packet as DeliveredPacket & { [CHECKED]?: true }
    // deliverQoS hands a QoS 0 copy on to deliver0: that is the same delivery, checked once.
    if (!packet.brokerId || packet.brokerCounter === undefined || marked[CHECKED]) return false
    const key = `${packet.brokerId}:${packet.brokerCounter}`
    const seen = (this.seen ??= new Set())
    if (seen.has(key)) return true
    const recent = (this.recent ??= [])
    seen.add(key)
    recent.push(key)
    if (recent.length > REMEMBERED) seen.delete(recent.shift() as string)
    marked[CHECKED] = true
    return false
  }
}

export function dedupeByMessage(handle: object): void {
  const client = handle as AedesClient
  client.duplicates = NOTHING_SEEN
  const delivered = new Delivered(client.deliver0, client.deliverQoS)
  // Read by Aedes when a subscription is made (after CONNECT), so replacing them here covers every one.
  client.deliver0 = (packet, cb) => {
    if (delivered.repeated(packet)) setImmediate(cb)
    else delivered.deliver0(packet, cb)
  }
  client.deliverQoS = (packet, cb) => {
    if (delivered.repeated(packet)) setImmediate(cb)
    else delivered.deliverQoS(packet, cb)
  }
}
