/**
 * Durable storage behind one small interface. Capabilities and services (KV, outbox, schedules,
 * dedup and rate-limit memory) use collections of JSON values and never see the backend, so a second
 * one (Redis, for several instances) slots in without touching them. LevelDB is the default.
 */

export interface StoredEntry<T> {
  key: string
  value: T
  /** Epoch ms; undefined = never expires. */
  expiresAt?: number | undefined
}

export interface SetOptions {
  /** Epoch ms at which the entry disappears; undefined = never. */
  expiresAt?: number | undefined
}

export type BatchOp<T> =
  | { type: 'set'; key: string; value: T; expiresAt?: number | undefined }
  | { type: 'delete'; key: string }

export interface ListOptions {
  /** Only keys starting with this. */
  prefix?: string
  /** Only keys after this one (exclusive), for paging. */
  after?: string
  limit?: number
}

/**
 * A named set of entries. Every write is durable when its promise resolves (the backend may group
 * concurrent writes into one commit). Expired entries are invisible to reads and removed at their
 * deadline by the store, which then tells `onExpire` listeners.
 */
export interface Collection<T> {
  readonly name: string
  get(key: string): Promise<StoredEntry<T> | undefined>
  set(key: string, value: T, opts?: SetOptions): Promise<void>
  /** Creates the entry only if no live one exists (dedup marks, leases): true when it did. */
  create(key: string, value: T, opts?: SetOptions): Promise<boolean>
  /** True when a live entry was removed. */
  delete(key: string): Promise<boolean>
  /** All of these or none, in one durable step. */
  batch(ops: Array<BatchOp<T>>): Promise<void>
  /** Live entries in key order. */
  list(opts?: ListOptions): Promise<Array<StoredEntry<T>>>
  /** Live entries in key order, streamed: memory stays flat whatever the collection's size (start-up loads). */
  scan(opts?: ListOptions): AsyncIterable<StoredEntry<T>>
  /** Live keys in key order, without reading values. */
  keys(opts?: ListOptions): AsyncIterable<string>
  onExpire(listener: (entry: StoredEntry<T>) => void | Promise<void>): () => void
}

export interface CollectionOptions {
  /**
   * Keep recently used values in memory (a byte-bounded cache), for read-heavy collections. Memory
   * stays bounded whatever the collection's size on disk.
   */
  cache?: boolean
}

/** One op of a store-wide batch: the collection it belongs to, then the op. */
export type StoreBatchOp = BatchOp<unknown> & { collection: string }

export interface Store {
  /** `level` or `redis`. */
  readonly backend: string
  /**
   * True when other sensebus instances may read and write the same state (redis): work that must
   * happen once (a schedule tick, an alert, a delivery) is then claimed with a lease (`create` with a
   * deadline) before it runs, and in-memory views are refreshed from the store.
   */
  readonly shared: boolean
  collection<T>(name: string, opts?: CollectionOptions): Collection<T>
  /** Ops on several collections, all or none in one durable step (an item and its index record). */
  batch(ops: StoreBatchOp[]): Promise<void>
  close(): Promise<void>
}

/** Collection names: short and safe for any backend's key syntax. */
export const COLLECTION_NAME = /^[a-z][a-z0-9-]{0,31}$/
