import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Level } from 'level'
import type { Logger } from '../../log.js'
import type {
  BatchOp,
  Collection,
  CollectionOptions,
  ListOptions,
  Store,
  StoreBatchOp,
  StoredEntry,
} from '../../core/store.js'
import {
  DATA,
  EXPIRY,
  FORMAT,
  FORMAT_KEY,
  dataKey,
  dataPrefix,
  decodeValue,
  encodeValue,
  expiresAtOf,
  expiryKey,
  expiryUpTo,
  prefixEnd,
  prefixEndString,
  splitDataKey,
  splitExpiryKey,
} from './encoding.js'
import { GroupCommit, type RawOp } from './group-commit.js'
import { LruCache } from './lru.js'
import { CollectionRegistry } from './registry.js'

export interface LevelStoreOptions {
  dir: string
  /** fsync every commit (durable across power loss, not only crashes). */
  sync: boolean
  /** Memory for cached values of collections opened with `cache: true`. */
  cacheBytes: number
  log: Logger
}

type Range =
  | { keyEncoding: 'utf8'; gt?: string; gte?: string; lt: string }
  | { keyEncoding: 'buffer'; gt?: Buffer; gte?: Buffer; lt: Buffer }

/** Expired entries removed per sweep round; the next round follows at once. */
const SWEEP_BATCH = 1000
/** Entries read from LevelDB per call when scanning (one native call per batch, not per entry). */
const SCAN_BATCH = 1000

/** The single-machine backend: one LevelDB under `<dataDir>/store`. */
export class LevelStore implements Store {
  readonly backend = 'level'
  readonly shared = false
  private readonly commit: GroupCommit
  private readonly cache: LruCache
  private readonly cached = new Set<string>()
  private readonly registry: CollectionRegistry
  private readonly creating = new Map<string, Promise<unknown>>()
  private timer: NodeJS.Timeout | undefined
  private armedFor = Number.POSITIVE_INFINITY
  private sweeping: Promise<void> | undefined
  private closed = false

  private constructor(
    private readonly db: Level<string, string>,
    private readonly opts: LevelStoreOptions,
  ) {
    this.commit = new GroupCommit(db, opts.sync)
    this.cache = new LruCache(opts.cacheBytes)
    this.registry = new CollectionRegistry(opts.log)
  }

  static async open(opts: LevelStoreOptions): Promise<LevelStore> {
    await mkdir(opts.dir, { recursive: true })
    const path = join(opts.dir, 'store')
    const db = new Level<string, string>(path, { valueEncoding: 'utf8' })
    try {
      await db.open()
    } catch (err) {
      // level says only "Database failed to open"; the reason (locked, corrupt, unreadable) is its cause.
      let reason = (err as Error & { cause?: Error }).cause?.message
      if (reason?.includes('LOCK')) reason += '; is another sensebus using this data dir?'
      throw new Error(`Cannot open the store in ${path}: ${(err as Error).message}${reason ? ` (${reason})` : ''}`, {
        cause: err,
      })
    }
    const store = new LevelStore(db, opts)
    try {
      await store.migrate()
      await store.armNext()
    } catch (err) {
      await db.close()
      throw err
    }
    return store
  }

  collection<T>(name: string, opts: CollectionOptions = {}): Collection<T> {
    const c = this.registry.get<T>(name, (n) => this.makeCollection(n))
    if (opts.cache) this.cached.add(name)
    return c
  }

  async batch(ops: StoreBatchOp[]): Promise<void> {
    for (const op of ops) this.collection(op.collection)
    return this.writeAll(ops)
  }

  async close(): Promise<void> {
    this.closed = true
    clearTimeout(this.timer)
    await this.sweeping
    await this.commit.settled()
    await this.db.close()
  }

  private makeCollection(name: string): Collection<unknown> {
    return {
      name,
      get: (key) => this.get(name, key),
      set: (key, value, o = {}) => this.write(name, [{ type: 'set', key, value, expiresAt: o.expiresAt }]),
      create: (key, value, o = {}) => this.create(name, key, value, o.expiresAt),
      delete: async (key) => {
        const had = (await this.get(name, key)) !== undefined
        await this.write(name, [{ type: 'delete', key }])
        return had
      },
      batch: (ops) => this.write(name, ops),
      list: (o) => this.list(name, o),
      scan: (o) => this.scan(name, o),
      keys: (o) => this.keys(name, o),
      onExpire: (listener) => this.registry.onExpire(name, listener),
    }
  }

  private async raw(full: string): Promise<string | undefined> {
    const pending = this.commit.peek(full)
    if (pending !== undefined) return pending ?? undefined
    const hit = this.cache.get(full)
    if (hit !== undefined) return hit
    const raw = (await this.db.get(full)) ?? undefined
    if (raw !== undefined && this.cached.has(splitDataKey(full).collection)) this.cache.set(full, raw)
    return raw
  }

  private async get<T>(collection: string, key: string): Promise<StoredEntry<T> | undefined> {
    const raw = await this.raw(dataKey(collection, key))
    if (raw === undefined) return undefined
    const expiresAt = expiresAtOf(raw)
    if (expiresAt !== undefined && expiresAt <= Date.now()) return undefined
    return { key, value: decodeValue<T>(raw), expiresAt }
  }

  private write(collection: string, ops: Array<BatchOp<unknown>>): Promise<void> {
    return this.writeAll(ops.map((op) => ({ ...op, collection })))
  }

  private async writeAll(ops: StoreBatchOp[]): Promise<void> {
    if (this.closed) throw new Error('The store is closed')
    const raw: RawOp[] = []
    let earliest = Number.POSITIVE_INFINITY
    for (const op of ops) {
      const { collection } = op
      const full = dataKey(collection, op.key)
      if (op.type === 'delete') {
        raw.push({ type: 'del', key: full })
        continue
      }
      raw.push({ type: 'put', key: full, value: encodeValue(op.value, op.expiresAt) })
      // A stale index entry (the key was rewritten with another deadline) is dropped when it comes due.
      if (op.expiresAt !== undefined) {
        raw.push({ type: 'put', key: expiryKey(op.expiresAt, collection, op.key), value: '' })
        earliest = Math.min(earliest, op.expiresAt)
      }
    }
    await this.commit.write(raw)
    for (const op of raw) {
      if (!op.key.startsWith(DATA) || !this.cached.has(splitDataKey(op.key).collection)) continue
      op.type === 'put' ? this.cache.set(op.key, op.value) : this.cache.delete(op.key)
    }
    if (earliest < this.armedFor) this.arm(earliest)
  }

  /** Check and write under a per-key lock, so two concurrent creates cannot both win. */
  private async create(collection: string, key: string, value: unknown, expiresAt?: number): Promise<boolean> {
    const full = dataKey(collection, key)
    const before = this.creating.get(full) ?? Promise.resolve()
    const run = before.then(async () => {
      if ((await this.get(collection, key)) !== undefined) return false
      await this.write(collection, [{ type: 'set', key, value, expiresAt }])
      return true
    })
    const tail = run.catch(() => undefined)
    this.creating.set(full, tail)
    void tail.then(() => {
      if (this.creating.get(full) === tail) this.creating.delete(full)
    })
    return run
  }

  private async list<T>(collection: string, o: ListOptions = {}): Promise<Array<StoredEntry<T>>> {
    const out: Array<StoredEntry<T>> = []
    for await (const e of this.scan<T>(collection, o)) out.push(e)
    return out
  }

  private async *scan<T>(collection: string, o: ListOptions = {}): AsyncIterable<StoredEntry<T>> {
    await this.commit.settled()
    const now = Date.now()
    let n = 0
    for await (const [k, raw] of this.entries(this.range(collection, o))) {
      const expiresAt = expiresAtOf(raw)
      if (expiresAt !== undefined && expiresAt <= now) continue
      yield { key: splitDataKey(k).key, value: decodeValue<T>(raw), expiresAt }
      if (o.limit !== undefined && ++n >= o.limit) return
    }
  }

  private async *keys(collection: string, o: ListOptions = {}): AsyncIterable<string> {
    await this.commit.settled()
    const now = Date.now()
    let n = 0
    for await (const [k, raw] of this.entries(this.range(collection, o))) {
      const expiresAt = expiresAtOf(raw)
      if (expiresAt !== undefined && expiresAt <= now) continue
      yield splitDataKey(k).key
      if (o.limit !== undefined && ++n >= o.limit) return
    }
  }

  /** Raw entries of a range, fetched a batch at a time: one native call per batch, not per entry. */
  private async *entries(range: Range): AsyncIterable<[string, string]> {
    const it = this.db.iterator<string | Buffer, string>(range)
    try {
      for (;;) {
        const batch = await it.nextv(SCAN_BATCH)
        if (batch.length === 0) return
        for (const [k, raw] of batch) yield [typeof k === 'string' ? k : k.toString(), raw]
      }
    } finally {
      await it.close()
    }
  }

  private range(collection: string, o: ListOptions): Range {
    const start = dataPrefix(collection, o.prefix ?? '')
    const after = o.after === undefined ? undefined : dataKey(collection, o.after)
    const useAfter = after !== undefined && after >= start
    // String bounds keep keys as strings (several times cheaper to iterate than buffers).
    const end = prefixEndString(start)
    if (end !== undefined) return { keyEncoding: 'utf8', ...(useAfter ? { gt: after } : { gte: start }), lt: end }
    return {
      keyEncoding: 'buffer',
      ...(useAfter ? { gt: Buffer.from(after) } : { gte: Buffer.from(start) }),
      lt: prefixEnd(start),
    }
  }

  /**
   * Brings an older layout up to date, once. A store without the format mark may hold entries with a
   * deadline but no index record (written before the index existed): index them, or they never expire.
   */
  private async migrate(): Promise<void> {
    if ((await this.db.get(FORMAT_KEY)) === FORMAT) return
    let ops: RawOp[] = []
    let indexed = 0
    for await (const [k, raw] of this.entries({
      keyEncoding: 'utf8',
      gte: DATA,
      lt: prefixEndString(DATA) as string,
    })) {
      const expiresAt = expiresAtOf(raw)
      if (expiresAt === undefined) continue
      const { collection, key } = splitDataKey(k)
      // Rewriting a record that exists is harmless: the sweep checks the deadline against the entry.
      ops.push({ type: 'put', key: expiryKey(expiresAt, collection, key), value: '' })
      indexed++
      if (ops.length >= SCAN_BATCH) {
        await this.db.batch(ops, { sync: this.opts.sync })
        ops = []
      }
    }
    ops.push({ type: 'put', key: FORMAT_KEY, value: FORMAT })
    await this.db.batch(ops, { sync: this.opts.sync })
    if (indexed > 0)
      this.opts.log.info({ indexed }, 'store: indexed the deadlines of entries written without the index')
  }

  /** Arms the sweep timer for the earliest deadline in the index. */
  private async armNext(): Promise<void> {
    let next = Number.POSITIVE_INFINITY
    for await (const k of this.db.keys({
      keyEncoding: 'buffer',
      gte: Buffer.from(EXPIRY),
      lt: prefixEnd(EXPIRY),
      limit: 1,
    })) {
      next = splitExpiryKey(k.toString()).expiresAt
    }
    this.arm(next)
  }

  private arm(deadline: number): void {
    clearTimeout(this.timer)
    this.armedFor = deadline
    if (this.closed || deadline === Number.POSITIVE_INFINITY) return
    // setTimeout caps at ~24.8 days; longer deadlines simply re-arm.
    const delay = Math.min(Math.max(deadline - Date.now(), 0), 2 ** 31 - 1)
    this.timer = setTimeout(() => {
      this.armedFor = Number.POSITIVE_INFINITY
      this.sweeping = this.sweep()
        .catch((err: unknown) => this.opts.log.error({ err }, 'expiry sweep failed'))
        .then(() => this.armNext())
        .catch((err: unknown) => this.opts.log.error({ err }, 'could not re-arm the expiry timer'))
    }, delay)
    this.timer.unref()
  }

  /** Removes what is due, by walking the deadline index only: the cost does not grow with the store. */
  private async sweep(): Promise<void> {
    for (;;) {
      if (this.closed) return
      const now = Date.now()
      const due: string[] = []
      for await (const k of this.db.keys({
        keyEncoding: 'buffer',
        gte: Buffer.from(EXPIRY),
        lt: expiryUpTo(now),
        limit: SWEEP_BATCH,
      })) {
        due.push(k.toString())
      }
      if (due.length === 0) return
      const ops: RawOp[] = []
      const expired: Array<{ collection: string; entry: StoredEntry<unknown> }> = []
      for (const ik of due) {
        ops.push({ type: 'del', key: ik })
        const { expiresAt, collection, key } = splitExpiryKey(ik)
        const full = dataKey(collection, key)
        const raw = await this.raw(full)
        // Only the entry this index record was written for: a rewrite moved the deadline or removed it.
        if (raw === undefined || expiresAtOf(raw) !== expiresAt) continue
        ops.push({ type: 'del', key: full })
        expired.push({ collection, entry: { key, value: decodeValue(raw), expiresAt } })
      }
      await this.commit.write(ops)
      for (const { collection, entry } of expired) {
        this.cache.delete(dataKey(collection, entry.key))
        await this.registry.expired(collection, entry)
      }
      if (due.length < SWEEP_BATCH) return
    }
  }
}
