import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { CapabilityError } from '../core/errors.js'
import type { AuditEntry } from './audit.js'
import type { TokenConfig } from './config.js'
import { sha256Hash, verifySecret } from './hash.js'
import type { Grants } from './roles.js'

export interface HttpGuardOptions {
  tokens: readonly TokenConfig[]
  anonymousRoles: readonly string[] | undefined
  grantsOf(roles: readonly string[]): Grants
  /** How long a caller is remembered for the audit line of its request. */
  requestTimeoutMs: number
  refused(entry: AuditEntry): void
}

export interface HttpCaller {
  /** The token's name; undefined for anonymous callers. */
  name: string | undefined
  roles: readonly string[]
}

export interface HttpGuard {
  /**
   * Checks the bearer token before the request reaches the bus. Resolves with the transaction the
   * shim must use, so the dispatcher's audit line can name the caller; throws UNAUTHORIZED or FORBIDDEN.
   */
  authorize(req: IncomingMessage, capability: string): Promise<string>
  callerOf(transaction: string | undefined): HttpCaller | undefined
}

const MAX_CACHED = 1000

export function createHttpGuard(opts: HttpGuardOptions): HttpGuard {
  const callers = new Map<string, HttpCaller>()
  // Successful look-ups by the token's digest: scrypt-hashed tokens would otherwise cost a hash per call.
  const known = new Map<string, TokenConfig>()

  const identify = async (token: string): Promise<TokenConfig | undefined> => {
    const digest = sha256Hash(token)
    const cached = known.get(digest)
    if (cached) return cached
    for (const t of opts.tokens) {
      if (await verifySecret(token, t.hash)) {
        if (known.size < MAX_CACHED) known.set(digest, t)
        return t
      }
    }
    return undefined
  }

  const deny = (
    code: 'UNAUTHORIZED' | 'FORBIDDEN',
    message: string,
    capability: string,
    caller?: HttpCaller,
  ): never => {
    opts.refused({
      capability,
      transaction: undefined,
      transport: 'http',
      clientId: undefined,
      username: caller?.name,
      roles: caller?.roles,
      outcome: code,
      durationMs: 0,
    })
    throw new CapabilityError(code, message)
  }

  return {
    async authorize(req, capability) {
      const header = req.headers.authorization
      let caller: HttpCaller
      if (header === undefined) {
        if (!opts.anonymousRoles)
          deny('UNAUTHORIZED', 'This call needs an API token: send Authorization: Bearer <token>', capability)
        caller = { name: undefined, roles: opts.anonymousRoles as readonly string[] }
      } else {
        const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
        const token = match ? await identify(match[1] as string) : undefined
        if (!token) return deny('UNAUTHORIZED', 'The API token is not valid', capability)
        caller = { name: token.name, roles: token.roles }
      }
      if (!opts.grantsOf(caller.roles).canCall(capability))
        deny('FORBIDDEN', `Not allowed to call '${capability}'`, capability, caller)
      const transaction = `http-${randomUUID()}`
      callers.set(transaction, caller)
      // Forgotten even when the request never reaches the dispatcher (a bad body, say).
      setTimeout(() => callers.delete(transaction), opts.requestTimeoutMs + 10_000).unref()
      return transaction
    },
    callerOf(transaction) {
      if (transaction === undefined) return undefined
      const caller = callers.get(transaction)
      callers.delete(transaction)
      return caller
    },
  }
}
