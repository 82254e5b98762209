import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Level } from 'level'
import { CapabilityError } from '../../core/errors.js'

export interface KvEntry {
  value: string
  /** Epoch ms; undefined = never expires. */
  expiresAt?: number
  updatedAt: number
}

export type KvChange =
  | { kind: 'set'; namespace: string; key: string; entry: KvEntry }
  | { kind: 'delete'; namespace: string; key: string; reason: 'deleted' | 'expired' }

/** Awaited inside the write, so whatever a listener does (the retained mirror) is done before the write is acknowledged. */
type Listener = (change: KvChange) => Promise<void> | void

// Keys in LevelDB: namespaces under "n\x00<ns>", pairs under "k\x00<ns>\x00<key>". NUL cannot
// appear in a namespace (the schema forbids it), so prefixes never collide.
const NS = 'n\u0000'
const KV = 'k\u0000'
const pairKey = (ns: string, key: string) => `${KV}${ns}\u0000${key}`

/**
 * Durable key-value store: every write is fsync'ed (`sync: true`) before it is acknowledged, so a
 * kill -9 right after an ok loses nothing. All live data is mirrored in memory for reads; writes are
 * serialised so memory and disk never disagree on ordering. Expiry is active: a timer removes keys
 * at their deadline whether or not anyone reads them (Butler only expired lazily).
 */
export class KvStore {
  private readonly data = new Map<string, Map<string, KvEntry>>()
  private readonly listeners = new Set<Listener>()
  private queue: Promise<unknown> = Promise.resolve()
  private timer: NodeJS.Timeout | undefined
  private armedFor = Infinity
  private closed = false

  private constructor(
    private readonly db: Level<string, string>,
    private readonly maxKeysPerNamespace: number,
    private readonly sync: boolean,
  ) {}

  static async open(dir: string, opts: { maxKeysPerNamespace: number; sync?: boolean }): Promise<KvStore> {
    await mkdir(dir, { recursive: true })
    const db = new Level<string, string>(join(dir, 'kv'), { valueEncoding: 'utf8' })
    try {
      await db.open()
    } catch (err) {
      // level says only "Database failed to open"; the reason (locked, corrupt, unreadable) is its cause.
      let reason = (err as Error & { cause?: Error }).cause?.message
      if (reason?.includes('LOCK')) reason += '; is another sensebus using this data dir?'
      throw new Error(
        `Cannot open the key-value store in ${join(dir, 'kv')}: ${(err as Error).message}${reason ? ` (${reason})` : ''}`,
        { cause: err },
      )
    }
    const store = new KvStore(db, opts.maxKeysPerNamespace, opts.sync ?? true)
    await store.load()
    return store
  }

  onChange(listener: Listener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  namespaces(): string[] {
    return [...this.data.keys()].sort()
  }

  hasNamespace(ns: string): boolean {
    return this.data.has(ns)
  }

  /** Live entries of a namespace; undefined when the namespace does not exist. */
  entries(ns: string): Array<[string, KvEntry]> | undefined {
    const map = this.data.get(ns)
    if (!map) return undefined
    const now = Date.now()
    return [...map.entries()].filter(([, e]) => !isExpired(e, now)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  }

  get(ns: string, key: string): KvEntry | undefined {
    const entry = this.data.get(ns)?.get(key)
    return entry && !isExpired(entry, Date.now()) ? entry : undefined
  }

  set(ns: string, key: string, value: string, ttlMs: number): Promise<KvEntry> {
    return this.serial(async () => {
      const map = this.data.get(ns)
      const exists = map?.has(key) ?? false
      if (!exists && (map?.size ?? 0) >= this.maxKeysPerNamespace) {
        throw new CapabilityError(
          'LIMIT_EXCEEDED',
          `Namespace '${ns}' already holds the maximum of ${this.maxKeysPerNamespace} keys`,
          {
            details: { namespace: ns, maxKeysPerNamespace: this.maxKeysPerNamespace },
          },
        )
      }
      const now = Date.now()
      const entry: KvEntry = ttlMs > 0 ? { value, expiresAt: now + ttlMs, updatedAt: now } : { value, updatedAt: now }
      const ops = [{ type: 'put' as const, key: pairKey(ns, key), value: JSON.stringify(entry) }]
      if (!map) ops.push({ type: 'put', key: `${NS}${ns}`, value: JSON.stringify({ createdAt: now }) })
      await this.db.batch(ops, { sync: this.sync })
      this.namespaceMap(ns).set(key, entry)
      await this.emit({ kind: 'set', namespace: ns, key, entry })
      // Only an earlier deadline needs a new timer; a stale early one just sweeps nothing and re-arms.
      if (entry.expiresAt !== undefined && entry.expiresAt < this.armedFor) this.arm(entry.expiresAt)
      return entry
    })
  }

  /** False when the key did not exist (or had expired). */
  delete(ns: string, key: string): Promise<boolean> {
    return this.serial(async () => {
      const map = this.data.get(ns)
      const entry = map?.get(key)
      if (!map || !entry) return false
      await this.db.del(pairKey(ns, key), { sync: this.sync })
      map.delete(key)
      await this.emit({ kind: 'delete', namespace: ns, key, reason: 'deleted' })
      return !isExpired(entry, Date.now())
    })
  }

  /** Number of keys removed, or undefined when the namespace did not exist. */
  deleteNamespace(ns: string): Promise<number | undefined> {
    return this.serial(async () => {
      const map = this.data.get(ns)
      if (!map) return undefined
      const keys = [...map.keys()]
      await this.db.batch(
        [
          ...keys.map((k) => ({ type: 'del' as const, key: pairKey(ns, k) })),
          { type: 'del' as const, key: `${NS}${ns}` },
        ],
        { sync: this.sync },
      )
      this.data.delete(ns)
      for (const key of keys) await this.emit({ kind: 'delete', namespace: ns, key, reason: 'deleted' })
      return keys.length
    })
  }

  async close(): Promise<void> {
    this.closed = true
    clearTimeout(this.timer)
    await this.queue.catch(() => undefined)
    await this.db.close()
  }

  private async load(): Promise<void> {
    for await (const [k] of this.db.iterator({ gte: NS, lt: 'n\u0001' })) this.namespaceMap(k.slice(NS.length))
    for await (const [k, v] of this.db.iterator({ gte: KV, lt: 'k\u0001' })) {
      const rest = k.slice(KV.length)
      const sep = rest.indexOf('\u0000')
      this.namespaceMap(rest.slice(0, sep)).set(rest.slice(sep + 1), JSON.parse(v) as KvEntry)
    }
    // Keys that expired while sensebus was stopped go on the first timer tick, not here: by then the
    // retained mirror listens (it subscribes right after open), so their retained messages are cleared too.
    // Reads already skip them.
    this.schedule()
  }

  private namespaceMap(ns: string): Map<string, KvEntry> {
    let map = this.data.get(ns)
    if (!map) {
      map = new Map()
      this.data.set(ns, map)
    }
    return map
  }

  private async emit(change: KvChange): Promise<void> {
    for (const l of this.listeners) await l(change)
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => undefined)
    return run
  }

  /** Removes every expired key, then arms the timer for the next deadline. */
  private sweep(): Promise<void> {
    return this.serial(async () => {
      const now = Date.now()
      const expired: Array<[string, string]> = []
      for (const [ns, map] of this.data) for (const [key, e] of map) if (isExpired(e, now)) expired.push([ns, key])
      if (expired.length > 0) {
        await this.db.batch(
          expired.map(([ns, key]) => ({ type: 'del' as const, key: pairKey(ns, key) })),
          { sync: this.sync },
        )
        for (const [ns, key] of expired) {
          this.data.get(ns)?.delete(key)
          await this.emit({ kind: 'delete', namespace: ns, key, reason: 'expired' })
        }
      }
    }).finally(() => this.schedule())
  }

  private schedule(): void {
    let next = Infinity
    for (const map of this.data.values())
      for (const e of map.values()) if (e.expiresAt !== undefined && e.expiresAt < next) next = e.expiresAt
    this.arm(next)
  }

  private arm(deadline: number): void {
    clearTimeout(this.timer)
    this.armedFor = deadline
    if (this.closed || deadline === Infinity) return
    // setTimeout caps at ~24.8 days; longer deadlines simply re-arm.
    const delay = Math.min(Math.max(deadline - Date.now(), 0), 2 ** 31 - 1)
    this.timer = setTimeout(() => void this.sweep(), delay)
    this.timer.unref()
  }
}

function isExpired(e: KvEntry, now: number): boolean {
  return e.expiresAt !== undefined && e.expiresAt <= now
}
