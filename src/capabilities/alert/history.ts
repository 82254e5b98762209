import type { Bus } from '../../core/bus.js'
import { event } from '../../core/envelope.js'
import type { Collection } from '../../core/store.js'
import { withStoreLock } from '../../services/store/lock.js'
import type { Topics } from '../../core/topics.js'
import type { Logger } from '../../log.js'
import type { Outbox, OutboxItem, Outcome } from '../../services/outbox/index.js'

export type DeliveryState = 'pending' | 'delivered' | 'retrying' | 'dead' | 'suppressed'

export interface DeliveryRecord {
  /** Outbox item id; absent for suppressed deliveries, which never reach the outbox. */
  itemId?: string
  kind: string
  destination: string
  recipient: string
  state: DeliveryState
  attempts: number
  lastError?: string
}

export interface AlertRecord {
  id: string
  eventType: string
  taskId: string
  taskName: string
  appName: string
  receivedAt: string
  incomplete: boolean
  problems: string[]
  /** Templates that failed to render; the built-in message went out instead. */
  templateErrors: string[]
  deliveries: DeliveryRecord[]
}

/**
 * Recent alerts and the state of each of their deliveries, kept in the store (alert/list) and as a
 * retained summary per alert; outbox outcomes become receipt events.
 */
export class AlertHistory {
  private readonly chains = new Map<string, Promise<unknown>>()
  private readonly source: string
  private outbox: Outbox | undefined

  constructor(
    private readonly records: Collection<AlertRecord>,
    private readonly bus: Bus,
    private readonly topics: Topics,
    private readonly log: Logger,
    private readonly limit: number,
    /** Shared store: updates of one alert take turns across instances too (its retained summary). */
    private readonly locks?: Collection<string>,
  ) {
    this.source = `sensebus/${bus.id}`
  }

  get(id: string): Promise<AlertRecord | undefined> {
    return this.records.get(id).then((e) => e?.value)
  }

  async list(limit: number): Promise<AlertRecord[]> {
    const all = (await this.records.list()).map((e) => e.value)
    return all.sort((a, b) => b.receivedAt.localeCompare(a.receivedAt)).slice(0, limit)
  }

  /** Writes or merges the record (a replayed alert keeps its delivery states), then trims the history. */
  async save(record: AlertRecord): Promise<void> {
    // A fast delivery (or a refused one) can finish before its alert is first saved: its receipt then
    // found no record to update, so the outbox's own state is taken for every delivery still pending.
    // Read inside the update chain: a receipt queued after this save finds the record.
    await this.update(record.id, async (old) => {
      const fresh = { ...record, deliveries: await Promise.all(record.deliveries.map((d) => this.settledState(d))) }
      if (!old) return fresh
      const known = new Map(old.deliveries.map((d) => [d.itemId ?? `${d.destination}|${d.recipient}`, d]))
      const deliveries = fresh.deliveries.map((d) => known.get(d.itemId ?? `${d.destination}|${d.recipient}`) ?? d)
      return { ...fresh, deliveries }
    })
    await this.trim()
  }

  private async settledState(d: DeliveryRecord): Promise<DeliveryRecord> {
    if (d.state !== 'pending' || !d.itemId || !this.outbox) return d
    const item = await this.outbox.get(d.itemId)
    if (!item || item.state === 'pending') return d
    return {
      ...d,
      state: item.state,
      attempts: item.attempts,
      ...(item.lastError ? { lastError: item.lastError } : {}),
    }
  }

  /** Receipts: every outbox outcome of an alert delivery updates its record and is published. */
  follow(outbox: Outbox): () => void {
    this.outbox = outbox
    return outbox.onOutcome((item, outcome) => {
      const alertId = item.meta.alertId
      if (typeof alertId !== 'string') return
      void this.receipt(alertId, item, outcome).catch((err: unknown) =>
        this.log.warn({ err, alertId }, 'could not record an alert receipt'),
      )
    })
  }

  private async receipt(alertId: string, item: OutboxItem, outcome: Outcome): Promise<void> {
    const state: DeliveryState = outcome
    await this.update(alertId, (old) => {
      if (!old) return undefined
      const deliveries = old.deliveries.map((d) =>
        d.itemId === item.id
          ? { ...d, state, attempts: item.attempts, ...(item.lastError ? { lastError: item.lastError } : {}) }
          : d,
      )
      return { ...old, deliveries }
    })
    const data = {
      alertId,
      deliveryId: item.id,
      kind: item.kind,
      destination: item.meta.destination,
      recipient: item.meta.recipient,
      attempts: item.attempts,
      ...(item.lastError && outcome !== 'delivered' ? { error: item.lastError } : {}),
      ...(item.receipt && outcome === 'delivered' ? { receipt: item.receipt } : {}),
    }
    const what = outcome === 'delivered' ? 'delivered' : 'failed'
    await this.bus.publish(this.topics.event('alert', alertId, what), event(`sense.alert.${what}`, this.source, data), {
      qos: 1,
    })
    if (outcome === 'dead') {
      await this.bus.publish(this.topics.event('alert', 'dead'), event('sense.alert.dead', this.source, data), {
        qos: 1,
      })
    }
  }

  private async update(
    id: string,
    change: (old: AlertRecord | undefined) => AlertRecord | undefined | Promise<AlertRecord | undefined>,
  ): Promise<void> {
    const previous = this.chains.get(id) ?? Promise.resolve()
    const step = async () => {
      const next = await change((await this.records.get(id))?.value)
      if (!next) return
      await this.records.set(id, next)
      await this.bus.publish(this.topics.state('alert', id), summary(next), { qos: 1, retain: true })
    }
    const locks = this.locks
    const run = previous.then(() => (locks ? withStoreLock(locks, id, step) : step()))
    const settled = run.catch(() => undefined)
    this.chains.set(id, settled)
    void settled.then(() => {
      if (this.chains.get(id) === settled) this.chains.delete(id)
    })
    return run
  }

  private async trim(): Promise<void> {
    const all = (await this.records.list()).map((e) => e.value)
    if (all.length <= this.limit) return
    const old = all.sort((a, b) => b.receivedAt.localeCompare(a.receivedAt)).slice(this.limit)
    await this.records.batch(old.map((r) => ({ type: 'delete' as const, key: r.id })))
    for (const r of old) await this.bus.publish(this.topics.state('alert', r.id), '', { qos: 1, retain: true })
  }
}

export function summary(r: AlertRecord) {
  const count = (s: DeliveryState) => r.deliveries.filter((d) => d.state === s).length
  return {
    ...r,
    counts: {
      total: r.deliveries.length,
      delivered: count('delivered'),
      pending: count('pending') + count('retrying'),
      dead: count('dead'),
      suppressed: count('suppressed'),
    },
  }
}
