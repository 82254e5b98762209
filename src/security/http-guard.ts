import type { IncomingMessage } from 'node:http'
import { CapabilityError } from '../core/errors.js'
import type { Identity } from '../core/identity.js'
import type { AuditEntry } from './audit.js'
import type { Grants } from './roles.js'
import type { TokenIdentifier } from './tokens.js'

export interface HttpGuardOptions {
  identify: TokenIdentifier
  anonymousRoles: readonly string[] | undefined
  grantsOf(roles: readonly string[]): Grants
  refused(entry: AuditEntry): void
}

export interface HttpGuard {
  /**
   * Who is calling, from the bearer token (or anonymous, where allowed): the identity the shim's bus
   * request carries. Throws UNAUTHORIZED for a missing or bad token and FORBIDDEN for a capability
   * outside the caller's roles, before anything reaches the bus.
   */
  authorize(req: IncomingMessage, capability: string): Promise<Identity>
  /** For endpoints outside the capabilities (`/metrics`, `/health`): UNAUTHORIZED unless a valid token is sent. */
  requireToken(req: IncomingMessage, endpoint: string): Promise<void>
}

export function createHttpGuard(opts: HttpGuardOptions): HttpGuard {
  const identify = opts.identify

  const deny = (code: 'UNAUTHORIZED' | 'FORBIDDEN', message: string, capability: string, who?: Identity): never => {
    opts.refused({
      capability,
      transaction: undefined,
      transport: who?.transport ?? 'http',
      via: 'http',
      clientId: undefined,
      username: who?.user,
      tokenName: who?.tokenName,
      roles: who?.roles,
      outcome: code,
      durationMs: 0,
    })
    throw new CapabilityError(code, message)
  }

  return {
    async requireToken(req, endpoint) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')
      const token = match ? await identify(match[1] as string) : undefined
      if (!token) deny('UNAUTHORIZED', `${endpoint} needs an API token: send Authorization: Bearer <token>`, endpoint)
    },
    async authorize(req, capability) {
      const header = req.headers.authorization
      const transport = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http'
      const remote = req.socket.remoteAddress
      let identity: Identity
      if (header === undefined) {
        if (!opts.anonymousRoles)
          deny('UNAUTHORIZED', 'This call needs an API token: send Authorization: Bearer <token>', capability)
        identity = { via: 'http', transport, remote, roles: opts.anonymousRoles as readonly string[] }
      } else {
        const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
        const token = match ? await identify(match[1] as string) : undefined
        if (!token) return deny('UNAUTHORIZED', 'The API token is not valid', capability)
        identity = { via: 'http', transport, remote, user: token.name, tokenName: token.name, roles: token.roles }
      }
      if (!opts.grantsOf(identity.roles).canCall(capability))
        deny('FORBIDDEN', `Not allowed to call '${capability}'`, capability, identity)
      return identity
    },
  }
}
