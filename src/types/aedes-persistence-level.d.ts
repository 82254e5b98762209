// aedes-persistence-level ships no types: its factory takes an open abstract-level database.
declare module 'aedes-persistence-level' {
  import type { Readable } from 'node:stream'
  interface LevelPersistence {
    createRetainedStreamCombi(patterns: string[]): Readable
    destroy(cb?: () => void): void
  }
  function levelPersistence(db: unknown): LevelPersistence
  export default levelPersistence
}
