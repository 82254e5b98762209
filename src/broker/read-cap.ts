import type { Duplex } from 'node:stream'

/**
 * Aedes reads everything a socket has buffered in one go and starts every packet in it before it
 * reads again, so one flooding client puts thousands of requests ahead of everyone else's at once.
 * Capped reads keep its batches small; together with flow control (flow-control.ts), which holds a
 * client's next batch until its backlog drains, a flooder waits, not everyone else.
 */
export function capReads(stream: Duplex, maxBytes: number): void {
  const read = stream.read.bind(stream)
  stream.read = (size?: number) => {
    if (size !== undefined && size !== null) return read(size)
    const buffered = stream.readableLength
    return buffered > maxBytes ? read(maxBytes) : read()
  }
}
