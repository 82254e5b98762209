import { Redis } from 'ioredis'
import type { BatchOp, Collection, ListOptions, Store, StoreBatchOp, StoredEntry } from '../../core/store.js'
import type { Logger } from '../../log.js'
import { decodeValue, encodeValue, expiresAtOf } from './encoding.js'
import { CREATE, SWEEP, WRITE } from './redis-scripts.js'
import { CollectionRegistry } from './registry.js'

export interface RedisStoreOptions {
  url: string
  /** In front of every Redis key, so several sites (or tests) can share one Redis. */
  keyPrefix: string
  /** How often each instance looks for deadlines that other instances wrote. */
  expiryPollMs: number
  /** How long a command may wait for Redis (reconnecting) before it fails. */
  commandTimeoutMs: number
  log: Logger
}

interface Scripts {
  sbWrite(...args: string[]): Promise<string[]>
  sbCreate(...args: string[]): Promise<number>
  sbSweep(...args: string[]): Promise<string[]>
}

/** Keys read from Redis per round trip when scanning. */
const SCAN_BATCH = 500
/** Expired entries removed per collection per sweep round; the next round follows at once. */
const SWEEP_BATCH = 500

/**
 * The shared backend: every instance of a site on one Redis. Writes go through Lua scripts (atomic
 * whoever sends them); expiry is swept by every instance, and the script hands each expired entry
 * to exactly one of them. Values are not cached in memory: another instance may change them.
 */
export class RedisStore implements Store {
  readonly backend = 'redis'
  readonly shared = true
  private readonly registry: CollectionRegistry
  private timer: NodeJS.Timeout | undefined
  private armedFor = Number.POSITIVE_INFINITY
  private sweeping: Promise<void> | undefined
  private closed = false

  private constructor(
    private readonly redis: Redis & Scripts,
    private readonly opts: RedisStoreOptions,
  ) {
    this.registry = new CollectionRegistry(opts.log)
  }

  static async open(opts: RedisStoreOptions): Promise<RedisStore> {
    const redis = new Redis(opts.url, {
      lazyConnect: true,
      connectTimeout: opts.commandTimeoutMs,
      commandTimeout: opts.commandTimeoutMs,
      maxRetriesPerRequest: 2,
    }) as Redis & Scripts
    redis.defineCommand('sbWrite', { numberOfKeys: 0, lua: WRITE })
    redis.defineCommand('sbCreate', { numberOfKeys: 0, lua: CREATE })
    redis.defineCommand('sbSweep', { numberOfKeys: 0, lua: SWEEP })
    let lastError = ''
    redis.on('error', (err: Error) => {
      // ioredis repeats the same error on every reconnect attempt: log each new one once.
      if (err.message !== lastError) opts.log.warn({ err: err.message }, 'redis error')
      lastError = err.message
    })
    try {
      await redis.connect()
      await redis.ping()
    } catch (err) {
      redis.disconnect()
      throw new Error(`Cannot reach Redis at ${redactUrl(opts.url)}: ${(err as Error).message}`, { cause: err })
    }
    const store = new RedisStore(redis, opts)
    store.arm(Date.now())
    return store
  }

  collection<T>(name: string): Collection<T> {
    return this.registry.get<T>(name, (n) => this.makeCollection(n))
  }

  async batch(ops: StoreBatchOp[]): Promise<void> {
    for (const op of ops) this.collection(op.collection)
    await this.write(ops)
  }

  async close(): Promise<void> {
    this.closed = true
    clearTimeout(this.timer)
    await this.sweeping
    await this.redis.quit().catch(() => this.redis.disconnect())
  }

  private makeCollection(name: string): Collection<unknown> {
    const one = (op: BatchOp<unknown>): StoreBatchOp => ({ ...op, collection: name })
    return {
      name,
      get: (key) => this.get(name, key),
      set: async (key, value, o = {}) => {
        await this.write([one({ type: 'set', key, value, expiresAt: o.expiresAt })])
      },
      create: (key, value, o = {}) => this.create(name, key, value, o.expiresAt),
      delete: async (key) => {
        const [old] = await this.write([one({ type: 'delete', key })])
        return old !== undefined && old !== '' && isLive(old, Date.now())
      },
      batch: async (ops) => {
        await this.write(ops.map(one))
      },
      list: async (o) => {
        const out: Array<StoredEntry<unknown>> = []
        for await (const e of this.scan(name, o)) out.push(e)
        return out
      },
      scan: (o) => this.scan(name, o),
      keys: (o) => this.keys(name, o),
      onExpire: (listener) => this.registry.onExpire(name, listener),
    }
  }

  private key(collection: string, part: 'd' | 'k'): string {
    return `${this.opts.keyPrefix}${collection}:${part}`
  }

  private async get<T>(collection: string, key: string): Promise<StoredEntry<T> | undefined> {
    const raw = await this.redis.hget(this.key(collection, 'd'), key)
    if (raw === null || !isLive(raw, Date.now())) return undefined
    return { key, value: decodeValue<T>(raw), expiresAt: expiresAtOf(raw) }
  }

  private async write(ops: StoreBatchOp[]): Promise<string[]> {
    if (this.closed) throw new Error('The store is closed')
    if (ops.length === 0) return []
    const args = [this.opts.keyPrefix]
    let earliest = Number.POSITIVE_INFINITY
    for (const op of ops) {
      if (op.type === 'delete') {
        args.push('d', op.collection, op.key, '', '')
        continue
      }
      args.push('s', op.collection, op.key, encodeValue(op.value, op.expiresAt), deadlineArg(op.expiresAt))
      if (op.expiresAt !== undefined) earliest = Math.min(earliest, op.expiresAt)
    }
    const old = await this.redis.sbWrite(...args)
    if (earliest < this.armedFor) this.arm(earliest)
    return old
  }

  private async create(collection: string, key: string, value: unknown, expiresAt?: number): Promise<boolean> {
    if (this.closed) throw new Error('The store is closed')
    const now = Date.now()
    const made = await this.redis.sbCreate(
      this.opts.keyPrefix,
      collection,
      key,
      encodeValue(value, expiresAt),
      deadlineArg(expiresAt),
      String(now),
    )
    if (made === 1 && expiresAt !== undefined && expiresAt < this.armedFor) this.arm(expiresAt)
    return made === 1
  }

  /** Live entries of a range, a batch of keys (one ZRANGEBYLEX, one HMGET) at a time. */
  private async *scan<T>(collection: string, o: ListOptions = {}): AsyncIterable<StoredEntry<T>> {
    let n = 0
    for await (const page of this.pages(collection, o)) {
      const raws = await this.redis.hmget(this.key(collection, 'd'), ...page)
      const now = Date.now()
      for (let i = 0; i < page.length; i++) {
        const raw = raws[i]
        // Gone between the two reads (deleted or swept): skipped, as a later scan would.
        if (raw === null || raw === undefined || !isLive(raw, now)) continue
        yield { key: page[i] as string, value: decodeValue<T>(raw), expiresAt: expiresAtOf(raw) }
        if (o.limit !== undefined && ++n >= o.limit) return
      }
    }
  }

  private async *keys(collection: string, o: ListOptions = {}): AsyncIterable<string> {
    // The deadline is in the value, so live keys still need the values (read a page at a time).
    for await (const e of this.scan(collection, o)) yield e.key
  }

  private async *pages(collection: string, o: ListOptions): AsyncIterable<string[]> {
    const prefix = Buffer.from(o.prefix ?? '')
    const after = o.after === undefined ? undefined : Buffer.from(o.after)
    let min =
      after !== undefined && Buffer.compare(after, prefix) >= 0
        ? Buffer.concat([Buffer.from('('), after])
        : Buffer.concat([Buffer.from('['), prefix])
    // 0xFF never occurs in UTF-8: every key that starts with the prefix sorts below it.
    const max = prefix.length === 0 ? '+' : Buffer.concat([Buffer.from('('), prefix, Buffer.from([0xff])])
    for (;;) {
      const page = await this.redis.zrangebylex(this.key(collection, 'k'), min, max, 'LIMIT', 0, SCAN_BATCH)
      if (page.length === 0) return
      yield page
      if (page.length < SCAN_BATCH) return
      min = Buffer.concat([Buffer.from('('), Buffer.from(page[page.length - 1] as string)])
    }
  }

  /** Sweeps at the earliest known deadline, and at least every `expiryPollMs` (other instances' deadlines). */
  private arm(deadline: number): void {
    clearTimeout(this.timer)
    if (this.closed) return
    const at = Math.min(deadline, Date.now() + this.opts.expiryPollMs)
    this.armedFor = at
    this.timer = setTimeout(
      () => {
        this.armedFor = Number.POSITIVE_INFINITY
        this.sweeping = this.sweep()
          .catch((err: unknown) => {
            this.opts.log.error({ err }, 'expiry sweep failed')
            return Number.POSITIVE_INFINITY
          })
          .then((next) => {
            this.sweeping = undefined
            // Always re-armed (polling for other instances' deadlines), keeping a write's earlier one.
            this.arm(Math.min(next, this.armedFor))
          })
      },
      Math.max(at - Date.now(), 0),
    )
    this.timer.unref()
  }

  /** One script call per round over every collection in use; returns the earliest remaining deadline. */
  private async sweep(): Promise<number> {
    for (;;) {
      const names = this.registry.names()
      if (this.closed || names.length === 0) return Number.POSITIVE_INFINITY
      const now = Date.now()
      const out = await this.redis.sbSweep(this.opts.keyPrefix, String(now), String(SWEEP_BATCH), ...names)
      const [earliest, more] = out
      for (let i = 2; i + 2 < out.length; i += 3) {
        const collection = out[i] as string
        const key = out[i + 1] as string
        const raw = out[i + 2] as string
        const entry = { key, value: decodeValue(raw), expiresAt: expiresAtOf(raw) }
        await this.registry.expired(collection, entry)
      }
      if (String(more) !== '1') return earliest ? Number(earliest) : Number.POSITIVE_INFINITY
    }
  }
}

const deadlineArg = (expiresAt: number | undefined) => (expiresAt === undefined ? '' : String(expiresAt))

function isLive(raw: string, now: number): boolean {
  const expiresAt = expiresAtOf(raw)
  return expiresAt === undefined || expiresAt > now
}

/** `redis://user:secret@host` → `redis://user:[redacted]@host` for error messages. */
function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^/:@]*):[^/@]*@/i, '$1:[redacted]@')
}
