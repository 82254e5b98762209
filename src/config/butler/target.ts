/** The sensebus config being written: only the settings that differ from sensebus' defaults. */
export class SensebusTarget {
  readonly config: Record<string, unknown> = { version: 1 }

  /** Sets a dotted path (`capabilities.alert.udp.port`), creating the sections on the way. */
  set(path: string, value: unknown): void {
    const parts = path.split('.')
    let node = this.config
    for (const key of parts.slice(0, -1)) {
      const next = node[key]
      if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {}
      node = node[key] as Record<string, unknown>
    }
    node[parts[parts.length - 1] as string] = value
  }

  get(path: string): unknown {
    let node: unknown = this.config
    for (const key of path.split('.')) {
      if (typeof node !== 'object' || node === null) return undefined
      node = (node as Record<string, unknown>)[key]
    }
    return node
  }

  /** Appends to a list setting, creating it. */
  push(path: string, value: unknown): void {
    const list = this.get(path)
    if (Array.isArray(list)) list.push(value)
    else this.set(path, [value])
  }
}
