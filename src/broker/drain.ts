import type { Duplex } from 'node:stream'

/** Calls `then` once, when the stream drains or closes (a closed stream never drains). */
export function onDrainOrClose(conn: Duplex, then: () => void): void {
  const done = () => {
    conn.off('drain', done)
    conn.off('close', done)
    then()
  }
  conn.on('drain', done)
  conn.on('close', done)
}
