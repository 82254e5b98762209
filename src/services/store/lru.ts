/**
 * A byte-bounded least-recently-used cache. Values are kept as the strings they are stored as, so
 * the bound is real: memory does not grow with the store's size on disk.
 */
export class LruCache {
  private readonly map = new Map<string, string>()
  private bytes = 0

  constructor(private readonly maxBytes: number) {}

  get(key: string): string | undefined {
    const value = this.map.get(key)
    if (value === undefined) return undefined
    // Re-inserting moves the key to the young end of the Map's insertion order.
    this.map.delete(key)
    this.map.set(key, value)
    return value
  }

  set(key: string, value: string): void {
    this.delete(key)
    const size = sizeOf(key, value)
    if (size > this.maxBytes / 8) return // one huge value must not flush everything else
    this.map.set(key, value)
    this.bytes += size
    for (const [k, v] of this.map) {
      if (this.bytes <= this.maxBytes) break
      this.map.delete(k)
      this.bytes -= sizeOf(k, v)
    }
  }

  delete(key: string): void {
    const old = this.map.get(key)
    if (old === undefined) return
    this.map.delete(key)
    this.bytes -= sizeOf(key, old)
  }

  get size(): number {
    return this.bytes
  }
}

function sizeOf(key: string, value: string): number {
  // UTF-16 in memory, plus a rough per-entry overhead of the Map.
  return (key.length + value.length) * 2 + 64
}
