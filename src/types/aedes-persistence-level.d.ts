// aedes-persistence-level ships no types: its factory takes an open abstract-level database. Only the
// members sensebus calls or wraps are declared; aedes itself uses the object untyped.
declare module 'aedes-persistence-level' {
  import type { Readable } from 'node:stream'
  export interface RetainedPacket {
    cmd: 'publish'
    topic: string
    payload: Buffer
    qos: 0 | 1 | 2
    retain: boolean
  }
  export interface LevelPersistence {
    setup(broker: unknown): Promise<void>
    storeRetained(packet: RetainedPacket): Promise<void>
    createRetainedStream(pattern: string): Readable
    createRetainedStreamCombi(patterns: string[]): Readable
    outgoingClearMessageId(client: { clean: boolean }, packet: unknown): Promise<unknown>
    destroy(cb?: () => void): void
  }
  function levelPersistence(db: unknown): LevelPersistence
  export default levelPersistence
}
