import type { Duplex } from 'node:stream'

export interface Oversize {
  /** The PUBLISH topic when known (a request's capability, for the log and the error answer). */
  topic?: string
  /** Remaining length of the packet as declared in its fixed header. */
  declaredBytes: number
}

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
export function guardPacketSize(stream: Duplex, maxPayloadBytes: number, onOversize: (info: Oversize) => void): void {
  let state: 'type' | 'length' | 'topicLength' | 'topic' | 'skip' = 'type'
  let qos = 0
  let type = 0
  let remaining = 0
  let multiplier = 1
  let lengthBytes = 0
  let toSkip = 0
  let topicLength = 0
  let header: number[] = []
  let topic: Buffer[] = []
  let topicBytes = 0
  let tripped = false

  const trip = (info: Oversize) => {
    tripped = true
    onOversize(info)
    stream.destroy()
  }

  const lengthKnown = () => {
    if (remaining === 0) return void (state = 'type')
    const hardLimit = maxPayloadBytes + HEADER_ALLOWANCE
    if (remaining > hardLimit) return trip({ declaredBytes: remaining })
    if (type === PUBLISH && remaining > maxPayloadBytes) {
      state = 'topicLength'
      header = []
      return
    }
    state = 'skip'
    toSkip = remaining
  }

  const inspect = (chunk: Buffer) => {
    let i = 0
    while (i < chunk.length && !tripped) {
      if (state === 'skip') {
        const n = Math.min(toSkip, chunk.length - i)
        i += n
        toSkip -= n
        if (toSkip === 0) state = 'type'
        continue
      }
      const byte = chunk[i++] as number
      if (state === 'type') {
        type = byte >> 4
        qos = (byte >> 1) & 3
        remaining = 0
        multiplier = 1
        lengthBytes = 0
        state = 'length'
      } else if (state === 'length') {
        remaining += (byte & 0x7f) * multiplier
        multiplier *= 128
        lengthBytes++
        // A fifth length byte is malformed; Aedes' parser reports that itself.
        if (byte & 0x80 && lengthBytes < 4) continue
        lengthKnown()
      } else if (state === 'topicLength') {
        header.push(byte)
        if (header.length < 2) continue
        topicLength = ((header[0] as number) << 8) | (header[1] as number)
        const payload = remaining - 2 - topicLength - (qos > 0 ? 2 : 0)
        if (payload <= maxPayloadBytes) {
          state = 'skip'
          toSkip = remaining - 2
          if (toSkip === 0) state = 'type'
          continue
        }
        state = 'topic'
        topic = []
        topicBytes = 0
        if (topicLength === 0) trip({ topic: '', declaredBytes: remaining })
      } else {
        const n = Math.min(topicLength - topicBytes, chunk.length - i + 1)
        topic.push(chunk.subarray(i - 1, i - 1 + n))
        topicBytes += n
        i += n - 1
        if (topicBytes === topicLength) trip({ topic: Buffer.concat(topic).toString('utf8'), declaredBytes: remaining })
      }
    }
  }

  const read = stream.read.bind(stream)
  stream.read = (size?: number) => {
    const chunk: unknown = read(size)
    if (tripped) return null
    if (Buffer.isBuffer(chunk)) {
      inspect(chunk)
      if (tripped) return null
    }
    return chunk
  }
}
