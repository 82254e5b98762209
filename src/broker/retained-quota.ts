import type { Level } from 'level'

export interface RetainedLimits {
  /** Retained messages clients may keep in the broker, all users together. */
  maxMessages: number
  /** Their payload bytes, all users together. */
  maxBytes: number
  /** Retained messages one user may keep. */
  maxMessagesPerUser: number
  /** Their payload bytes, per user. */
  maxBytesPerUser: number
}

export const DEFAULT_RETAINED_LIMITS: RetainedLimits = {
  maxMessages: 100_000,
  maxBytes: 256 * 1024 * 1024,
  maxMessagesPerUser: 10_000,
  maxBytesPerUser: 64 * 1024 * 1024,
}

export interface RetainedRefusal {
  limit: keyof RetainedLimits
  value: number
}

interface Usage {
  count: number
  bytes: number
}

/** The part of a level sublevel this needs. */
interface HolderDb {
  put(key: string, value: string): Promise<void>
  del(key: string): Promise<void>
  iterator(): AsyncIterable<[string, string]>
}

/**
 * Who holds each retained message clients published, and how much that adds up to, so one user
 * cannot fill the broker's memory and disk with retained messages (they are all loaded again at
 * every start). Kept on disk beside the messages, so a restart does not forget the accounts.
 * Retained messages sensebus publishes itself (KV mirror, state) are not counted: the KV store and
 * the capabilities have limits of their own. Those mqtt/publish sends for a caller are, as the caller's.
 */
export class RetainedQuota {
  private readonly byTopic = new Map<string, { user: string; bytes: number }>()
  private readonly byUser = new Map<string, Usage>()
  private readonly total: Usage = { count: 0, bytes: 0 }

  private constructor(
    private readonly db: HolderDb,
    private readonly limits: RetainedLimits,
  ) {}

  static async open(db: Level<string, Buffer>, limits: RetainedLimits): Promise<RetainedQuota> {
    const sub = db.sublevel<string, string>('retained-holders', { valueEncoding: 'utf8' }) as unknown as HolderDb
    const quota = new RetainedQuota(sub, limits)
    for await (const [topic, value] of sub.iterator()) {
      const tab = value.lastIndexOf('\t')
      quota.add(topic, value.slice(0, tab), Number(value.slice(tab + 1)) || 0)
    }
    return quota
  }

  /**
   * Accounts a retained publish of `bytes` on `topic` by `user` (anonymous is ''); false when it
   * would take the user or everyone over a limit, and nothing changes. An empty payload clears the
   * topic's retained message and always passes.
   */
  admit(user: string, topic: string, bytes: number): boolean {
    return this.tryAdmit(user, topic, bytes) === undefined
  }

  /**
   * As `admit`, but says why not: the `broker.retained` limit the message would exceed and its value
   * (undefined when admitted). For callers that can tell the user, such as mqtt/publish.
   */
  tryAdmit(user: string, topic: string, bytes: number): RetainedRefusal | undefined {
    const held = this.byTopic.get(topic)
    if (bytes === 0) {
      if (held) {
        this.remove(topic, held)
        this.persist(this.db.del(topic))
      }
      return undefined
    }
    const own = this.byUser.get(user) ?? { count: 0, bytes: 0 }
    // Replacing a message frees what it held first (the user's own, or someone else's).
    const ownFreed = held?.user === user ? held : undefined
    const userCount = own.count + 1 - (ownFreed ? 1 : 0)
    const userBytes = own.bytes + bytes - (ownFreed?.bytes ?? 0)
    const totalCount = this.total.count + 1 - (held ? 1 : 0)
    const totalBytes = this.total.bytes + bytes - (held?.bytes ?? 0)
    const { maxMessages, maxBytes, maxMessagesPerUser, maxBytesPerUser } = this.limits
    if (userCount > maxMessagesPerUser) return { limit: 'maxMessagesPerUser', value: maxMessagesPerUser }
    if (userBytes > maxBytesPerUser) return { limit: 'maxBytesPerUser', value: maxBytesPerUser }
    if (totalCount > maxMessages) return { limit: 'maxMessages', value: maxMessages }
    if (totalBytes > maxBytes) return { limit: 'maxBytes', value: maxBytes }
    if (held) this.remove(topic, held)
    this.add(topic, user, bytes)
    this.persist(this.db.put(topic, `${user}\t${bytes}`))
    return undefined
  }

  usage(user?: string): Usage {
    return user === undefined ? { ...this.total } : { ...(this.byUser.get(user) ?? { count: 0, bytes: 0 }) }
  }

  private add(topic: string, user: string, bytes: number): void {
    this.byTopic.set(topic, { user, bytes })
    const u = this.byUser.get(user) ?? { count: 0, bytes: 0 }
    u.count++
    u.bytes += bytes
    this.byUser.set(user, u)
    this.total.count++
    this.total.bytes += bytes
  }

  private remove(topic: string, held: { user: string; bytes: number }): void {
    this.byTopic.delete(topic)
    const u = this.byUser.get(held.user)
    if (u) {
      u.count--
      u.bytes -= held.bytes
      if (u.count <= 0) this.byUser.delete(held.user)
    }
    this.total.count--
    this.total.bytes -= held.bytes
  }

  // The accounts are advisory: a lost write at a crash costs at most one message's worth of quota.
  private persist(write: Promise<void>): void {
    write.catch(() => undefined)
  }
}
