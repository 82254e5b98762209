import type { TokenConfig } from './config.js'
import { sha256Hash, verifySecret } from './hash.js'

/** Which configured API token a secret is, or undefined. */
export type TokenIdentifier = (secret: string) => Promise<TokenConfig | undefined>

const MAX_CACHED = 1000

/**
 * One look-up for API tokens, shared by the HTTP shim (bearer tokens) and the broker (a token as the
 * MQTT password), so a token means the same name and roles at every door. Successful look-ups are
 * cached by the secret's digest: scrypt-hashed tokens would otherwise cost a hash per call.
 */
export function tokenIdentifier(tokens: readonly TokenConfig[]): TokenIdentifier {
  const known = new Map<string, TokenConfig>()
  return async (secret) => {
    if (tokens.length === 0 || secret === '') return undefined
    const digest = sha256Hash(secret)
    const cached = known.get(digest)
    if (cached) return cached
    for (const t of tokens) {
      if (await verifySecret(secret, t.hash)) {
        if (known.size < MAX_CACHED) known.set(digest, t)
        return t
      }
    }
    return undefined
  }
}
