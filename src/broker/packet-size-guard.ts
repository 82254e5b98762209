import type { Duplex } from 'node:stream'

export interface Oversize {
  /** The PUBLISH topic when known (a request's capability, for the log and the error answer). */
  topic?: string
  /** Remaining length of the packet as declared in its fixed header. */
  declaredBytes: number
}

/** Told which stream tripped, so one function serves every connection (no closure per connection). */
export type OnOversize = (stream: Duplex, info: Oversize) => void

const PUBLISH = 3
/** Room for the variable header of non-PUBLISH packets (CONNECT carries a will topic, user name, password). */
const HEADER_ALLOWANCE = 65_536 + 1024

/**
 * Aedes buffers a whole packet before any hook sees it, so a client could make it hold up to the
 * MQTT maximum of 256 MiB ([MQTT-2.2.3]). This watches the fixed headers as Aedes reads the
 * stream and closes the connection as soon as a packet declares more than the limit, before its
 * body is buffered. MQTT 3.1.1 has no way to tell the client why; MQTT 5 would send reason 0x95.
 *
 * It wraps `read()` rather than piping through a Transform so the stream Aedes holds stays the
 * socket itself (TLS details, destroy and backpressure all unchanged).
 */
class SizeGuard {
  private state: 'type' | 'length' | 'topicLength' | 'topic' | 'skip' = 'type'
  private qos = 0
  private type = 0
  private remaining = 0
  private multiplier = 1
  private lengthBytes = 0
  private toSkip = 0
  private topicLength = 0
  /** Allocated only while an oversized PUBLISH's topic is read. */
  private header: number[] | undefined
  private topic: Buffer[] | undefined
  private topicBytes = 0
  tripped = false

  constructor(
    private readonly stream: Duplex,
    private readonly maxPayloadBytes: number,
    private readonly onOversize: OnOversize,
  ) {}

  private trip(info: Oversize): void {
    this.tripped = true
    this.onOversize(this.stream, info)
    this.stream.destroy()
  }

  private lengthKnown(): void {
    if (this.remaining === 0) {
      this.state = 'type'
      return
    }
    if (this.remaining > this.maxPayloadBytes + HEADER_ALLOWANCE) {
      this.trip({ declaredBytes: this.remaining })
      return
    }
    if (this.type === PUBLISH && this.remaining > this.maxPayloadBytes) {
      this.state = 'topicLength'
      this.header = []
      return
    }
    this.state = 'skip'
    this.toSkip = this.remaining
  }

  inspect(chunk: Buffer): void {
    let i = 0
    while (i < chunk.length && !this.tripped) {
      if (this.state === 'skip') {
        const n = Math.min(this.toSkip, chunk.length - i)
        i += n
        this.toSkip -= n
        if (this.toSkip === 0) this.state = 'type'
        continue
      }
      const byte = chunk[i++] as number
      if (this.state === 'type') {
        this.type = byte >> 4
        this.qos = (byte >> 1) & 3
        this.remaining = 0
        this.multiplier = 1
        this.lengthBytes = 0
        this.state = 'length'
      } else if (this.state === 'length') {
        this.remaining += (byte & 0x7f) * this.multiplier
        this.multiplier *= 128
        this.lengthBytes++
        // A fifth length byte is malformed; Aedes' parser reports that itself.
        if (byte & 0x80 && this.lengthBytes < 4) continue
        this.lengthKnown()
      } else if (this.state === 'topicLength') {
        const header = (this.header ??= [])
        header.push(byte)
        if (header.length < 2) continue
        this.header = undefined
        this.topicLength = ((header[0] as number) << 8) | (header[1] as number)
        const payload = this.remaining - 2 - this.topicLength - (this.qos > 0 ? 2 : 0)
        if (payload <= this.maxPayloadBytes) {
          this.state = 'skip'
          this.toSkip = this.remaining - 2
          if (this.toSkip === 0) this.state = 'type'
          continue
        }
        this.state = 'topic'
        this.topic = []
        this.topicBytes = 0
        if (this.topicLength === 0) this.trip({ topic: '', declaredBytes: this.remaining })
      } else {
        const topic = (this.topic ??= [])
        const n = Math.min(this.topicLength - this.topicBytes, chunk.length - i + 1)
        topic.push(chunk.subarray(i - 1, i - 1 + n))
        this.topicBytes += n
        i += n - 1
        if (this.topicBytes === this.topicLength) {
          this.topic = undefined
          this.trip({ topic: Buffer.concat(topic).toString('utf8'), declaredBytes: this.remaining })
        }
      }
    }
  }
}

/**
 * The state lives in one object (a class, not closures over a dozen variables) and `read` is called,
 * not bound: every connection pays for this while idle (issue #10; spec/bench/idle.ts).
 */
export function guardPacketSize(stream: Duplex, maxPayloadBytes: number, onOversize: OnOversize): void {
  const guard = new SizeGuard(stream, maxPayloadBytes, onOversize)
  const read = stream.read
  stream.read = (size?: number) => {
    const chunk: unknown = read.call(stream, size)
    if (guard.tripped) return null
    if (Buffer.isBuffer(chunk)) {
      guard.inspect(chunk)
      if (guard.tripped) return null
    }
    return chunk
  }
}
