/** Collection keys of the KV store: "<namespace>\0<key>". NUL cannot appear in a namespace (the schema forbids it). */
const SEP = '\u0000'

export const pairKey = (ns: string, key: string) => `${ns}${SEP}${key}`

export function splitPair(k: string): { ns: string; key: string } {
  const at = k.indexOf(SEP)
  return { ns: k.slice(0, at), key: k.slice(at + 1) }
}
