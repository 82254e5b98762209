import { COLLECTION_NAME, type Collection, type StoredEntry } from '../../core/store.js'
import type { Logger } from '../../log.js'

type Listener = (entry: StoredEntry<unknown>) => void | Promise<void>

/**
 * What every backend keeps per collection name: one Collection object per name (made on first use,
 * names checked once) and the `onExpire` listeners, told of each expired entry in turn.
 */
export class CollectionRegistry {
  private readonly collections = new Map<string, Collection<unknown>>()
  private readonly listeners = new Map<string, Set<Listener>>()

  constructor(private readonly log: Logger) {}

  get<T>(name: string, make: (name: string) => Collection<unknown>): Collection<T> {
    if (!COLLECTION_NAME.test(name)) throw new Error(`Invalid collection name '${name}'`)
    let c = this.collections.get(name)
    if (!c) {
      c = make(name)
      this.collections.set(name, c)
    }
    return c as Collection<T>
  }

  names(): string[] {
    return [...this.collections.keys()]
  }

  onExpire(name: string, listener: Listener): () => void {
    let set = this.listeners.get(name)
    if (!set) {
      set = new Set()
      this.listeners.set(name, set)
    }
    set.add(listener)
    const listeners = set
    return () => listeners.delete(listener)
  }

  /** Tells the collection's listeners, one after another; a listener's failure is logged, not thrown. */
  async expired(name: string, entry: StoredEntry<unknown>): Promise<void> {
    for (const l of this.listeners.get(name) ?? []) {
      try {
        await l(entry)
      } catch (err) {
        this.log.warn({ err, collection: name, key: entry.key }, 'expiry listener failed')
      }
    }
  }
}
