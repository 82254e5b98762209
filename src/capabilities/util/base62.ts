const BASE62 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'
const BASE16 = '0123456789abcdef'

/** Converts between positional alphabets with BigInt, so 128-bit Sense ids keep every digit. */
function convert(input: string, from: string, to: string): string {
  const base = BigInt(from.length)
  let n = 0n
  for (const ch of input) n = n * base + BigInt(from.indexOf(ch))
  if (n === 0n) return to[0] as string
  const out: string[] = []
  const toBase = BigInt(to.length)
  while (n > 0n) {
    out.push(to[Number(n % toBase)] as string)
    n /= toBase
  }
  return out.reverse().join('')
}

export const base62ToBase16 = (s: string) => convert(s, BASE62, BASE16)
export const base16ToBase62 = (s: string) => convert(s.toLowerCase(), BASE16, BASE62)
