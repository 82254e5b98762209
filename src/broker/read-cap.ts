import type { Duplex } from 'node:stream'

/** Shared by every connection of a broker: set at shutdown, after which no packet is parsed any more. */
export interface ReadGate {
  held: boolean
}

/**
 * Follows MQTT packet boundaries through a byte stream, read by read: the fixed header's
 * remaining length ([MQTT-2.2.3]) says where each packet ends.
 */
class PacketBoundaries {
  /** Bytes of the current packet still to come. */
  private owed = 0
  /** Bytes of a fixed header that is not complete yet (allocated when a header is split across reads). */
  private head: number[] | undefined
  /** A malformed length: the parser will close the connection; stop cutting. */
  broken = false

  /**
   * Where to cut `buf`: the last packet boundary at or before `max`, or the first boundary when the
   * first packet is longer than that, or the whole buffer when no packet ends in it.
   */
  cut(buf: Buffer, max: number): number {
    let owed = this.owed
    let head = this.head?.length ?? 0
    let lastByte = this.head?.at(-1) ?? 0
    let found = -1
    let i = 0
    while (i < buf.length) {
      if (owed > 0) {
        const take = Math.min(owed, buf.length - i)
        i += take
        owed -= take
        if (owed > 0) break
      } else {
        lastByte = buf[i] as number
        head++
        i++
        if (head < 2 || (lastByte & 0x80) !== 0) {
          if (head > 5) return buf.length
          continue
        }
        owed = this.remaining(buf, i, head)
        head = 0
        if (owed > 0) continue
      }
      if (found === -1 || i <= max) found = i
      if (i >= max) break
    }
    return found === -1 ? buf.length : found
  }

  /** Moves the state past bytes handed to the parser. */
  consume(buf: Buffer): void {
    for (let i = 0; i < buf.length; ) {
      if (this.owed > 0) {
        const take = Math.min(this.owed, buf.length - i)
        i += take
        this.owed -= take
        continue
      }
      const byte = buf[i++] as number
      this.head ??= []
      const head = this.head
      head.push(byte)
      if (head.length < 2 || (byte & 0x80) !== 0) {
        if (head.length > 5) this.broken = true
        continue
      }
      let length = 0
      for (let k = 1, mult = 1; k < head.length; k++, mult *= 128) length += ((head[k] as number) & 0x7f) * mult
      this.owed = length
      this.head = undefined
    }
  }

  /** The remaining length whose header (type byte included) is `head` bytes long and ends before `end`. */
  private remaining(buf: Buffer, end: number, head: number): number {
    const bytes = [...(this.head ?? []), ...buf.subarray(Math.max(0, end - head), end)].slice(-head)
    let length = 0
    for (let k = 1, mult = 1; k < bytes.length; k++, mult *= 128) length += ((bytes[k] as number) & 0x7f) * mult
    return length
  }
}

/**
 * Aedes reads everything a socket has buffered in one go and starts every packet in it before it
 * reads again, so one flooding client puts thousands of requests ahead of everyone else's at once.
 * Capped reads keep its batches small; together with flow control (flow-control.ts), which holds a
 * client's next batch until its backlog drains, a flooder waits, not everyone else.
 *
 * Once `gate.held` is set (shutdown, for every connection at once) parsing stops for good: bytes still
 * arriving are drained and dropped, so nothing more is acknowledged. One gate for all connections, and
 * the stream's own `read` called rather than bound: an idle connection should cost as little as it can
 * (issue #10; spec/bench/idle.ts).
 *
 * A batch always ends on a packet boundary and holds at least one whole packet when one is there:
 * Aedes reads again only after a packet of the batch is handled (or new bytes arrive), so a batch
 * holding only part of a packet, with the rest already buffered, would stall the connection.
 */
export function capReads(stream: Duplex, maxBytes: number, gate: ReadGate): void {
  const read = stream.read
  const boundaries = new PacketBoundaries()
  stream.read = (size?: number) => {
    // At shutdown: the broker takes no more packets from this client (it stays connected to get its answers).
    if (gate.held) {
      // Read and drop: unread bytes at close make the kernel reset the connection, and a reset
      // throws away the answers still on their way to the client.
      while (read.call(stream) !== null);
      return null
    }
    if (size !== undefined && size !== null) return read.call(stream, size)
    const chunk = read.call(stream) as Buffer | null
    if (chunk === null || boundaries.broken) return chunk
    const end = chunk.length > maxBytes ? boundaries.cut(chunk, maxBytes) : chunk.length
    const batch = end < chunk.length ? chunk.subarray(0, end) : chunk
    if (end < chunk.length) stream.unshift(chunk.subarray(end))
    boundaries.consume(batch)
    return batch
  }
}
