import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto'

/**
 * Secrets are stored as self-describing strings so the cost can rise later without breaking old
 * entries: `scrypt$N$r$p$<salt b64>$<hash b64>` for passwords, `sha256$<hex>` for API tokens.
 * Tokens are 256 random bits, so a fast hash is enough for them (nothing to brute-force); passwords
 * are chosen by people, so they get a salted, memory-hard hash.
 */

export interface ScryptCost {
  N: number
  r: number
  p: number
}

export const DEFAULT_SCRYPT: ScryptCost = { N: 16_384, r: 8, p: 1 }
const KEY_LENGTH = 32
const SALT_BYTES = 16
const TOKEN_PREFIX = 'sbt_'

function scryptAsync(secret: string, salt: Buffer, keyLength: number, cost: ScryptCost): Promise<Buffer> {
  // maxmem must cover 128 * N * r bytes, or node refuses costs above the 32 MiB default.
  const options: ScryptOptions = { ...cost, maxmem: 256 * cost.N * cost.r + 1024 * 1024 }
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key))),
  )
}

export async function hashPassword(password: string, cost: ScryptCost = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(SALT_BYTES)
  const key = await scryptAsync(password, salt, KEY_LENGTH, cost)
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64')}$${key.toString('base64')}`
}

export function sha256Hash(secret: string): string {
  return `sha256$${createHash('sha256').update(secret, 'utf8').digest('hex')}`
}

/** A fresh API token: what the caller sends, and the hash the config stores. */
export function generateToken(): { token: string; hash: string } {
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`
  return { token, hash: sha256Hash(token) }
}

/** True when the string is a hash this module can check. */
export function isSupportedHash(encoded: string): boolean {
  return parseScrypt(encoded) !== undefined || /^sha256\$[0-9a-f]{64}$/.test(encoded)
}

function parseScrypt(encoded: string): { cost: ScryptCost; salt: Buffer; key: Buffer } | undefined {
  const parts = encoded.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number]
  const salt = Buffer.from(parts[4] ?? '', 'base64')
  const key = Buffer.from(parts[5] ?? '', 'base64')
  // N must be a power of two above 1; huge costs are refused so a config typo cannot stall logins.
  if (!Number.isInteger(N) || N < 2 || (N & (N - 1)) !== 0 || N > 2 ** 20) return undefined
  if (!Number.isInteger(r) || r < 1 || r > 32 || !Number.isInteger(p) || p < 1 || p > 16) return undefined
  if (salt.length < 8 || key.length < 16) return undefined
  return { cost: { N, r, p }, salt, key }
}

function equalBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}

/** Checks a secret against a stored hash in constant time; false for malformed hashes. */
export async function verifySecret(secret: string, encoded: string): Promise<boolean> {
  if (encoded.startsWith('sha256$')) {
    return equalBytes(Buffer.from(sha256Hash(secret)), Buffer.from(encoded))
  }
  const parsed = parseScrypt(encoded)
  if (!parsed) return false
  const key = await scryptAsync(secret, parsed.salt, parsed.key.length, parsed.cost)
  return equalBytes(key, parsed.key)
}

/** A hash of an unguessable value: checked against an unknown user name so a miss takes as long as a hit. */
const dummySalt = Buffer.alloc(16, 7).toString('base64')
const dummyKey = Buffer.alloc(32, 9).toString('base64')
const { N, r, p } = DEFAULT_SCRYPT
export const DUMMY_PASSWORD_HASH = `scrypt$${N}$${r}$${p}$${dummySalt}$${dummyKey}`
