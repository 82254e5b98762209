/**
 * On-disk layout of the level backend, in one LevelDB:
 * - `d\0<collection>\0<key>` → `<expiresAt or empty>\x01<JSON value>`: the expiry sits in front of the
 *   JSON so scans can skip expired entries without parsing values;
 * - `x\0<expiresAt, 16 digits>\0<collection>\0<key>` → empty: an index by deadline, so expiring a
 *   key costs the same with ten keys stored or a million.
 */
const SEP = '\u0000'
const VALUE_SEP = '\u0001'

export const DATA = `d${SEP}`
export const EXPIRY = `x${SEP}`
/**
 * The layout's version. A store without it holds data from before the deadline index existed, or
 * from a build that did not keep it: the index is rebuilt from the data once, at open.
 */
export const FORMAT_KEY = `m${SEP}format`
export const FORMAT = '2'

export const dataKey = (collection: string, key: string) => `${DATA}${collection}${SEP}${key}`
export const dataPrefix = (collection: string, prefix = '') => `${DATA}${collection}${SEP}${prefix}`

export function splitDataKey(full: string): { collection: string; key: string } {
  const rest = full.slice(DATA.length)
  const at = rest.indexOf(SEP)
  return { collection: rest.slice(0, at), key: rest.slice(at + 1) }
}

const pad = (ms: number) => String(Math.max(0, Math.floor(ms))).padStart(16, '0')

export const expiryKey = (expiresAt: number, collection: string, key: string) =>
  `${EXPIRY}${pad(expiresAt)}${SEP}${collection}${SEP}${key}`

/** Upper bound (exclusive) of every index key due at or before `now`. */
export const expiryUpTo = (now: number) => prefixEnd(`${EXPIRY}${pad(now)}${SEP}`)

export function splitExpiryKey(full: string): { expiresAt: number; collection: string; key: string } {
  const rest = full.slice(EXPIRY.length)
  const expiresAt = Number(rest.slice(0, 16))
  const { collection, key } = splitDataKey(`${DATA}${rest.slice(17)}`)
  return { expiresAt, collection, key }
}

export function encodeValue(value: unknown, expiresAt: number | undefined): string {
  return `${expiresAt ?? ''}${VALUE_SEP}${JSON.stringify(value)}`
}

/** The deadline alone, without parsing the value. */
export function expiresAtOf(raw: string): number | undefined {
  const at = raw.indexOf(VALUE_SEP)
  return at <= 0 ? undefined : Number(raw.slice(0, at))
}

export function decodeValue<T>(raw: string): T {
  return JSON.parse(raw.slice(raw.indexOf(VALUE_SEP) + 1)) as T
}

/**
 * The end of a prefix range as a string, when one exists: the prefix with its last UTF-16 unit
 * raised by one sorts, as UTF-8 bytes, after every key that starts with the prefix. Not for a last
 * unit at or next to the surrogate range, whose UTF-8 order differs: undefined there.
 */
export function prefixEndString(prefix: string): string | undefined {
  const last = prefix.charCodeAt(prefix.length - 1)
  if (Number.isNaN(last) || (last >= 0xd7ff && last < 0xe000) || last >= 0xfffe) return undefined
  return `${prefix.slice(0, -1)}${String.fromCharCode(last + 1)}`
}

/**
 * The end of a prefix range as bytes: 0xFF never occurs in UTF-8, so every key that starts with
 * `prefix` sorts below it, whatever characters follow.
 */
export const prefixEnd = (prefix: string) => Buffer.concat([Buffer.from(prefix), Buffer.from([0xff])])
