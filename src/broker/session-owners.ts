import type { Client } from 'aedes'
import type { Level } from 'level'

/** The user a connection logged in as; anonymous connections share the empty name. */
type Owner = string

/** The part of a level sublevel this needs. */
interface OwnerDb {
  put(key: string, value: string): Promise<void>
  del(key: string): Promise<void>
  iterator(): AsyncIterable<[string, string]>
}

export interface ClaimInput {
  client: Client
  clientId: string
  user: string | undefined
  /** Admin may take over another user's client id when `broker.adminTakesOverClientIds` is set. */
  mayTakeOver: boolean
}

/**
 * Who a client id belongs to. Connecting with a client id kicks its current holder off and resumes
 * its persistent session (queued messages included), so an id belongs to the user that first used it:
 * while it is connected, and for as long as it has a persistent session (clean: false), kept on disk
 * next to the sessions themselves so a restart does not hand it to whoever connects first.
 */
export class SessionOwners {
  private readonly live = new Map<string, { client: Client; owner: Owner }>()
  private readonly persistent = new Map<string, Owner>()

  private constructor(private readonly db: OwnerDb) {}

  static async open(db: Level<string, Buffer>): Promise<SessionOwners> {
    const sub = db.sublevel<string, string>('client-owners', { valueEncoding: 'utf8' }) as unknown as OwnerDb
    const owners = new SessionOwners(sub)
    for await (const [id, owner] of sub.iterator()) owners.persistent.set(id, owner)
    return owners
  }

  /** The other user holding `clientId`, when this connection may not have it. */
  conflict({ clientId, user, mayTakeOver }: ClaimInput): Owner | undefined {
    const owner = this.live.get(clientId)?.owner ?? this.persistent.get(clientId)
    if (owner === undefined || owner === (user ?? '') || mayTakeOver) return undefined
    return owner
  }

  /** Records the connection as the id's holder; a persistent session keeps the id for its user. */
  async claim({ client, clientId, user }: ClaimInput): Promise<void> {
    const owner = user ?? ''
    this.live.set(clientId, { client, owner })
    if (!client.clean) {
      if (this.persistent.get(clientId) === owner) return
      this.persistent.set(clientId, owner)
      await this.db.put(clientId, owner)
    } else if (this.persistent.delete(clientId)) {
      // A clean session wipes the persistent one, and with it the claim on the id.
      await this.db.del(clientId)
    }
  }

  /** The connection closed; a newer connection that took the id over keeps it. */
  release(client: Client): void {
    const held = this.live.get(client.id)
    if (held?.client === client) this.live.delete(client.id)
  }
}
