import { CapabilityError } from '../../core/errors.js'
import type { Collection, Store, StoredEntry } from '../../core/store.js'
import type { Logger } from '../../log.js'
import { withStoreLock } from '../../services/store/lock.js'
import { pairKey, splitPair } from './keys.js'
import { importLegacyKv } from './legacy.js'

export interface KvValue {
  value: string
  updatedAt: number
}

export interface KvEntry extends KvValue {
  /** Epoch ms; undefined = never expires. */
  expiresAt?: number | undefined
}

export interface KvItem {
  namespace: string
  key: string
  entry: KvEntry
}

/** Called for each stored entry while the store loads (the mirror compares them in the same pass). */
export type KvVisitor = (item: KvItem) => Promise<void> | void

export type KvChange =
  | { kind: 'set'; namespace: string; key: string; entry: KvEntry }
  | { kind: 'delete'; namespace: string; key: string; reason: 'deleted' | 'expired' }

/** Awaited after the write is durable and before it is acknowledged (the retained mirror). */
type Listener = (change: KvChange) => Promise<void> | void

export interface KvLimits {
  maxKeysPerNamespace: number
  maxNamespaces: number
  maxKeys: number
  maxBytes: number
  maxValueBytes: number
}

/** What the index keeps per key: its size and deadline, never its value (values stay on disk). */
interface KeyMeta {
  bytes: number
  expiresAt?: number | undefined
}

const sizeOf = (ns: string, key: string, value: string) =>
  Buffer.byteLength(ns) + Buffer.byteLength(key) + Buffer.byteLength(value)

/**
 * The key-value store on the platform's durable store. Memory holds an index of namespaces and keys
 * with their sizes (for limits and listings); values live on disk behind a bounded cache. Writes are
 * acknowledged once durable; expiry is the store's (at the deadline, not only when read).
 */
export class KvStore {
  private readonly index = new Map<string, Map<string, KeyMeta>>()
  private readonly listeners = new Set<Listener>()
  private totalKeys = 0
  private totalBytes = 0
  /** Per-key write order, so two writes to one key cannot cross in the index or the mirror. */
  private readonly tails = new Map<string, Promise<unknown>>()
  private readonly stopExpiry: () => void

  private constructor(
    private readonly pairs: Collection<KvValue>,
    private readonly spaces: Collection<{ createdAt: number }>,
    private readonly limits: KvLimits,
    /**
     * Shared store (several instances): the index is refreshed from the store before each use of a
     * namespace, and writes of one key (with their mirror publish) take turns under a store lock.
     */
    private readonly locks?: Collection<string>,
  ) {
    this.stopExpiry = pairs.onExpire((e) => this.expired(e))
  }

  /**
   * `visit` sees every stored entry during the one pass that loads the index; `listener` hears of
   * changes from the start, so an expiry during the load is not missed.
   */
  static async open(
    store: Store,
    limits: KvLimits,
    opts: { visit?: KvVisitor; listener?: Listener; dataDir?: string; log?: Logger } = {},
  ): Promise<KvStore> {
    const pairs = store.collection<KvValue>('kv', { cache: true })
    const spaces = store.collection<{ createdAt: number }>('kv-ns')
    if (opts.dataDir !== undefined && opts.log) await importLegacyKv(opts.dataDir, pairs, spaces, opts.log)
    const kv = new KvStore(pairs, spaces, limits, store.shared ? store.collection<string>('kv-lock') : undefined)
    if (opts.listener) kv.onChange(opts.listener)
    await kv.load(opts.visit)
    return kv
  }

  onChange(listener: Listener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /**
   * Shared store: brings the index of `ns` (or the list of namespaces) up to date with what other
   * instances wrote. Without another writer there is nothing to learn: a no-op.
   */
  async refresh(ns?: string): Promise<void> {
    if (!this.locks) return
    if (ns === undefined) {
      const live = new Set<string>()
      for await (const name of this.spaces.keys()) live.add(name)
      for (const name of live) if (!this.index.has(name)) await this.refresh(name)
      for (const name of [...this.index.keys()]) if (!live.has(name)) await this.refresh(name)
      return
    }
    const metas = new Map<string, KeyMeta>()
    for await (const e of this.pairs.scan({ prefix: pairKey(ns, '') }))
      metas.set(splitPair(e.key).key, {
        bytes: sizeOf(ns, splitPair(e.key).key, e.value.value),
        expiresAt: e.expiresAt,
      })
    const exists = (await this.spaces.get(ns)) !== undefined
    for (const key of [...(this.index.get(ns)?.keys() ?? [])]) if (!metas.has(key)) this.account(ns, key, undefined)
    for (const [key, meta] of metas) this.account(ns, key, meta)
    if (!exists && metas.size === 0) this.index.delete(ns)
    else if (!this.index.has(ns)) this.index.set(ns, new Map())
  }

  namespaces(): string[] {
    return [...this.index.keys()].sort()
  }

  hasNamespace(ns: string): boolean {
    return this.index.has(ns)
  }

  /** Live keys of a namespace in order, with their deadlines; undefined when it does not exist. */
  keys(ns: string): Array<{ key: string; expiresAt?: number | undefined }> | undefined {
    const map = this.index.get(ns)
    if (!map) return undefined
    const now = Date.now()
    return [...map.entries()]
      .filter(([, m]) => m.expiresAt === undefined || m.expiresAt > now)
      .map(([key, m]) => ({ key, expiresAt: m.expiresAt }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  }

  async get(ns: string, key: string): Promise<KvEntry | undefined> {
    if (!this.locks && !this.index.get(ns)?.has(key)) return undefined
    const e = await this.pairs.get(pairKey(ns, key))
    return e && { ...e.value, expiresAt: e.expiresAt }
  }

  /** All live entries, streamed in key order (the mirror rebuild): memory stays flat. */
  async *all(): AsyncIterable<KvItem> {
    for await (const e of this.pairs.scan()) {
      const { ns, key } = splitPair(e.key)
      yield { namespace: ns, key, entry: { ...e.value, expiresAt: e.expiresAt } }
    }
  }

  /**
   * Runs `fn` in the key's write order, so what it publishes about the key cannot overtake a write
   * or an expiry of that key (the mirror's repairs after a rebuild).
   */
  withKey<T>(ns: string, key: string, fn: () => Promise<T>): Promise<T> {
    return this.serial(pairKey(ns, key), fn)
  }

  set(ns: string, key: string, value: string, ttlMs: number): Promise<KvEntry> {
    return this.serial(pairKey(ns, key), async () => {
      await this.refresh(ns)
      const bytes = sizeOf(ns, key, value)
      const map = this.index.get(ns)
      const old = map?.get(key)
      this.checkLimits(ns, map, old, bytes, Buffer.byteLength(value))
      const now = Date.now()
      const entry: KvEntry = { value, updatedAt: now, expiresAt: ttlMs > 0 ? now + ttlMs : undefined }
      // Reserved before the write so concurrent sets of other keys see it in the limits at once.
      this.account(ns, key, { bytes, expiresAt: entry.expiresAt })
      try {
        if (!map) await this.spaces.set(ns, { createdAt: now })
        await this.pairs.set(pairKey(ns, key), { value, updatedAt: now }, { expiresAt: entry.expiresAt })
      } catch (err) {
        this.account(ns, key, old)
        if (!map && this.index.get(ns)?.size === 0) this.index.delete(ns)
        throw err
      }
      await this.emit({ kind: 'set', namespace: ns, key, entry })
      return entry
    })
  }

  /** False when the key did not exist (or had expired). */
  delete(ns: string, key: string): Promise<boolean> {
    return this.serial(pairKey(ns, key), async () => {
      await this.refresh(ns)
      const meta = this.index.get(ns)?.get(key)
      if (!meta) return false
      await this.pairs.delete(pairKey(ns, key))
      this.account(ns, key, undefined)
      await this.emit({ kind: 'delete', namespace: ns, key, reason: 'deleted' })
      return meta.expiresAt === undefined || meta.expiresAt > Date.now()
    })
  }

  /** Number of keys removed, or undefined when the namespace did not exist. */
  async deleteNamespace(ns: string): Promise<number | undefined> {
    await this.refresh(ns)
    const map = this.index.get(ns)
    if (!map) return undefined
    const keys = [...map.keys()]
    await this.pairs.batch(keys.map((k) => ({ type: 'delete' as const, key: pairKey(ns, k) })))
    await this.spaces.delete(ns)
    for (const key of keys) this.account(ns, key, undefined)
    this.index.delete(ns)
    for (const key of keys) await this.emit({ kind: 'delete', namespace: ns, key, reason: 'deleted' })
    return keys.length
  }

  stats(): { namespaces: number; keys: number; bytes: number } {
    return { namespaces: this.index.size, keys: this.totalKeys, bytes: this.totalBytes }
  }

  close(): void {
    this.stopExpiry()
  }

  private checkLimits(
    ns: string,
    map: Map<string, KeyMeta> | undefined,
    old: KeyMeta | undefined,
    bytes: number,
    valueBytes: number,
  ) {
    const l = this.limits
    const fail = (message: string, details: Record<string, unknown>) => {
      throw new CapabilityError('LIMIT_EXCEEDED', message, { details: { namespace: ns, ...details } })
    }
    if (valueBytes > l.maxValueBytes)
      fail(`The value is larger than ${l.maxValueBytes} bytes`, { maxValueBytes: l.maxValueBytes })
    if (!map && this.index.size >= l.maxNamespaces)
      fail(`There are already ${l.maxNamespaces} namespaces`, { maxNamespaces: l.maxNamespaces })
    if (!old && (map?.size ?? 0) >= l.maxKeysPerNamespace) {
      fail(`Namespace '${ns}' already holds the maximum of ${l.maxKeysPerNamespace} keys`, {
        maxKeysPerNamespace: l.maxKeysPerNamespace,
      })
    }
    if (!old && this.totalKeys >= l.maxKeys)
      fail(`The store already holds the maximum of ${l.maxKeys} keys`, { maxKeys: l.maxKeys })
    if (this.totalBytes - (old?.bytes ?? 0) + bytes > l.maxBytes)
      fail(`The store would exceed ${l.maxBytes} bytes`, { maxBytes: l.maxBytes })
  }

  /** Index bookkeeping: a key's new size and deadline, or its removal. */
  private account(ns: string, key: string, meta: KeyMeta | undefined): void {
    let map = this.index.get(ns)
    const old = map?.get(key)
    if (old) {
      this.totalKeys--
      this.totalBytes -= old.bytes
    }
    if (!meta) {
      map?.delete(key)
      return
    }
    if (!map) {
      map = new Map()
      this.index.set(ns, map)
    }
    map.set(key, meta)
    this.totalKeys++
    this.totalBytes += meta.bytes
  }

  private async load(visit: KvVisitor | undefined): Promise<void> {
    for await (const ns of this.spaces.keys()) this.index.set(ns, new Map())
    for await (const item of this.all()) {
      // Expired since the scan began: its sweep already ran, or runs soon and finds it gone from the index.
      if (item.entry.expiresAt !== undefined && item.entry.expiresAt <= Date.now()) continue
      this.account(item.namespace, item.key, {
        bytes: sizeOf(item.namespace, item.key, item.entry.value),
        expiresAt: item.entry.expiresAt,
      })
      if (visit) await visit(item)
    }
  }

  private async expired(e: StoredEntry<KvValue>): Promise<void> {
    const { ns, key } = splitPair(e.key)
    await this.serial(e.key, async () => {
      // The store only reports the entry it removed; a rewrite in between would have a new deadline.
      // A shared store hands each expiry to one instance, whose index may not know the key yet.
      if (!this.locks && this.index.get(ns)?.get(key)?.expiresAt !== e.expiresAt) return
      this.account(ns, key, undefined)
      await this.emit({ kind: 'delete', namespace: ns, key, reason: 'expired' })
    })
  }

  private async emit(change: KvChange): Promise<void> {
    for (const l of this.listeners) await l(change)
  }

  private serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve()
    const locks = this.locks
    // Across instances too, so the retained mirror ends on the value the store ends on.
    const step = locks ? () => withStoreLock(locks, key, fn) : fn
    const run = before.then(step, step)
    const tail = run.catch(() => undefined)
    this.tails.set(key, tail)
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key)
    })
    return run
  }
}
