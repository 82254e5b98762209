import type { Duplex } from 'node:stream'
import type { AedesPublishPacket, Client, Subscription } from 'aedes'
import type { RetainedPacket } from 'aedes-persistence-level'
import { topicMatches } from '../core/topics.js'
import { onDrainOrClose } from './drain.js'

/**
 * Writes the retained messages a new subscription matches, in batches.
 *
 * Aedes sends them one at a time through a stream: each waits two event-loop turns (`setImmediate`
 * before and after its write) and goes out in a socket write of its own. A fresh subscriber to the
 * KV mirror's 100,000 keys took 2.7 s that way, Mosquitto 0.9 s, with a writev per message the
 * largest cost (spec/bench/retained-mosquitto.ts). Here a batch of messages is encoded into one
 * buffer and written at once, and the next waits for the socket to drain, so a slow reader holds
 * back only its own delivery and what it costs in memory stays about one batch.
 *
 * Each message still passes `authorizeForward` (ACLs that filter delivery, the QoS 0 drop of a
 * client that does not read), and goes out at the lower of its own QoS and the one granted
 * ([MQTT-3.8.4-6]; Aedes' stream kept the stored QoS whatever was granted). fast-persistence.ts hands
 * Aedes an empty retained stream, so this is the only path that sends them.
 */

/** A batch ends after this many bytes or messages (64 KB: some 400 mirror messages). */
const BATCH_BYTES = 64 * 1024
const BATCH_MESSAGES = 1024

/** The parts of an Aedes client this needs beyond its typings (aedes 1.2.0). */
interface AedesClient {
  conn: Duplex
  closed: boolean
  /** The next packet id Aedes hands out for QoS > 0 (1..65535), shared with its own deliveries. */
  _nextId: number
}

type Forward = (client: Client, packet: AedesPublishPacket) => AedesPublishPacket | null | undefined | void

export interface RetainedDeliveryOptions {
  /** The retained messages under these filters, read lazily (a key updated meanwhile is read as it is then). */
  matching: (filters: string[]) => Iterator<RetainedPacket>
  authorizeForward: Forward
  /** A delivery failed midway (the client is closing); for the log. */
  onError: (client: Client, err: Error) => void
}

/** Returns what to call with the granted subscriptions of each SUBSCRIBE (Aedes' `subscribe` event). */
export function retainedDelivery(opts: RetainedDeliveryOptions): (subs: Subscription[], client: Client) => void {
  return (subs, client) => {
    // Refused filters are granted 128 and get nothing.
    const granted = subs.filter((s) => (s.qos as number) !== 128)
    if (granted.length === 0) return
    const qosFor = grantedQos(granted)
    const messages = opts.matching(granted.map((s) => s.topic))
    const aedesClient = client as unknown as AedesClient
    const conn = aedesClient.conn
    const next = () => {
      try {
        if (aedesClient.closed || conn.destroyed) return
        if (!writeBatch(aedesClient, client, messages, qosFor, opts.authorizeForward)) return
        // More to send: once the socket took this batch, and never inside this turn (other clients get theirs).
        // `writableNeedDrain`, not `writableLength > 0`: a write under the high-water mark that the kernel
        // did not take at once leaves bytes behind but emits no 'drain', and the delivery would stall.
        if (conn.writableNeedDrain) onDrainOrClose(conn, next)
        else setImmediate(next)
      } catch (err) {
        opts.onError(client, err as Error)
      }
    }
    // At once, so the first batch follows the SUBACK Aedes has just written, before any live message.
    next()
  }
}

/** Encodes and writes up to one batch; false once the messages are exhausted. */
function writeBatch(
  aedesClient: AedesClient,
  client: Client,
  messages: Iterator<RetainedPacket>,
  qosFor: (p: RetainedPacket) => 0 | 1 | 2,
  authorizeForward: Forward,
): boolean {
  const batch: AedesPublishPacket[] = []
  let bytes = 0
  let more = true
  while (bytes < BATCH_BYTES && batch.length < BATCH_MESSAGES) {
    const step = messages.next()
    if (step.done) {
      more = false
      break
    }
    const stored = step.value
    const qos = Math.min(stored.qos, qosFor(stored)) as 0 | 1 | 2
    const packet = {
      cmd: 'publish',
      topic: stored.topic,
      payload: stored.payload,
      qos,
      retain: true,
      dup: false,
    } as AedesPublishPacket
    const out = authorizeForward(client, packet)
    if (!out) continue
    if (out.qos > 0) out.messageId = takeId(aedesClient)
    batch.push(out)
    bytes += out.topic.length + out.payload.length
  }
  if (batch.length > 0) aedesClient.conn.write(encodePublishes(batch))
  return more
}

/**
 * MQTT 3.1.1 PUBLISH packets back to back in one buffer (what Aedes writes too: it speaks 3.1 and 3.1.1
 * only). Encoded here rather than with mqtt-packet, which builds each packet from several writes.
 */
function encodePublishes(packets: AedesPublishPacket[]): Buffer {
  const parts = packets.map((p) => {
    const payload = typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload
    const topicBytes = Buffer.byteLength(p.topic)
    const remaining = 2 + topicBytes + (p.qos > 0 ? 2 : 0) + payload.length
    return { p, payload, topicBytes, remaining, size: 1 + varintBytes(remaining) + remaining }
  })
  const out = Buffer.allocUnsafe(parts.reduce((n, x) => n + x.size, 0))
  let at = 0
  for (const { p, payload, topicBytes, remaining } of parts) {
    out[at++] = 0x30 | (p.dup ? 0x08 : 0) | (p.qos << 1) | (p.retain ? 0x01 : 0)
    for (let left = remaining; ; ) {
      const byte = left % 128
      left = Math.floor(left / 128)
      out[at++] = left > 0 ? byte | 0x80 : byte
      if (left === 0) break
    }
    at = out.writeUInt16BE(topicBytes, at)
    at += out.write(p.topic, at, 'utf8')
    if (p.qos > 0) at = out.writeUInt16BE(p.messageId ?? 0, at)
    at += payload.copy(out, at)
  }
  return out
}

/** Bytes of MQTT's variable-length encoding of a remaining length. */
function varintBytes(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4
}

/** Aedes' own id rule (qos-packet.js): 1..65535, wrapping. */
function takeId(client: AedesClient): number {
  const id = client._nextId
  client._nextId = id >= 65535 ? 1 : id + 1
  return id
}

/** The granted QoS for a retained topic: the highest of the new filters that match it. */
function grantedQos(subs: Subscription[]): (p: RetainedPacket) => 0 | 1 | 2 {
  const first = subs[0]?.qos ?? 0
  // One filter, or all granted alike (the usual case): no per-message matching.
  if (subs.every((s) => s.qos === first)) return () => first
  return (p) => {
    let best: 0 | 1 | 2 = 0
    for (const s of subs) if (s.qos > best && topicMatches(s.topic, p.topic)) best = s.qos
    return best
  }
}
