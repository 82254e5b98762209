import { Writable } from 'node:stream'

/** A stream that keeps each line written to it: give it to createLogger as its destination. */
export function captureLines(): { lines: string[]; stream: Writable } {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean))
      done()
    },
  })
  return { lines, stream }
}

/** One turn of the event loop: lines written to a Writable have reached it after this. */
export const afterWrites = (): Promise<unknown> => new Promise((r) => setImmediate(r))
