/**
 * The two kinds of pattern roles are written in: capability patterns (`kv/*`, `task/start`, `*`)
 * and MQTT topic filters (`sense/state/#`).
 */

/** `*` is every capability, `kv/*` every capability of the kv area, anything else an exact name. */
export function capabilityMatches(pattern: string, capability: string): boolean {
  if (pattern === '*') return true
  if (pattern.endsWith('/*'))
    return capability.startsWith(pattern.slice(0, -1)) && !capability.slice(pattern.length - 1).includes('/')
  return pattern === capability
}

/** The response-topic filter that carries the answers of the capabilities a pattern names. */
export function responseFilterOf(responseBase: string, pattern: string): string {
  if (pattern === '*') return `${responseBase}/#`
  if (pattern.endsWith('/*')) return `${responseBase}/${pattern.slice(0, -1)}+`
  return `${responseBase}/${pattern}`
}

/**
 * Whether every topic a client could receive through `filter` also matches `pattern`, so granting
 * the subscription leaks nothing outside the pattern. `#` also matches its parent level
 * ([MQTT-4.7.1-2]); `$` topics are only covered by patterns that name them ([MQTT-4.7.2-1]).
 */
export function filterCovers(pattern: string, filter: string): boolean {
  if (filter.startsWith('$') !== pattern.startsWith('$')) return false
  const p = pattern.split('/')
  const f = filter.split('/')
  for (let i = 0; i < p.length; i++) {
    const pl = p[i]
    const fl = f[i]
    if (pl === '#') return true
    if (fl === undefined) return false
    if (fl === '#') return false
    if (pl === '+') continue
    if (fl === '+' || pl !== fl) return false
  }
  return f.length === p.length
}

/** A namespace pattern: `*` matches any run of characters (`/` included), everything else itself. */
export function namespaceMatches(pattern: string, namespace: string): boolean {
  const parts = pattern.split('*')
  if (parts.length === 1) return pattern === namespace
  const first = parts[0] as string
  const last = parts[parts.length - 1] as string
  if (namespace.length < first.length + last.length || !namespace.startsWith(first) || !namespace.endsWith(last))
    return false
  let at = first.length
  const end = namespace.length - last.length
  for (const middle of parts.slice(1, -1)) {
    const found = namespace.indexOf(middle, at)
    if (found === -1 || found + middle.length > end) return false
    at = found + middle.length
  }
  return true
}
