import { randomUUID } from 'node:crypto'
import type { Bus } from '../../core/bus.js'
import { event } from '../../core/envelope.js'
import type { Collection } from '../../core/store.js'
import type { Topics } from '../../core/topics.js'
import type { Logger } from '../../log.js'
import type { AuditRecord } from './schema.js'

const DAY_MS = 86_400_000

/** The event each operation publishes on success (`sense/event/file/<what>`). */
export const EVENT_OF: Record<string, string> = {
  'file/copy': 'copied',
  'file/move': 'moved',
  'file/delete': 'deleted',
  'dir/create': 'dir-created',
  'dir/create-qvd': 'dir-created',
  'file/list': 'listed',
}

/**
 * Every file operation, allowed or not: a durable record (file/audit reads them), a log line and an
 * event. Refusals go to `event/file/refused` so a watcher sees escape attempts as they happen.
 */
export class FileAudit {
  private count = 0
  private readonly source: string

  constructor(
    private readonly records: Collection<AuditRecord>,
    private readonly bus: Bus,
    private readonly topics: Topics,
    private readonly log: Logger,
    private readonly limits: { maxRecords: number; retentionDays: number },
  ) {
    this.source = `sensebus/${bus.id}`
  }

  async open(): Promise<() => void> {
    for await (const _ of this.records.keys()) this.count++
    return this.records.onExpire(() => {
      this.count--
    })
  }

  async write(fields: Omit<AuditRecord, 'id' | 'time'>): Promise<void> {
    const time = new Date()
    // Time first, so key order is age order and trimming takes the oldest.
    const id = `${time.toISOString()}-${randomUUID().slice(0, 8)}`
    const record: AuditRecord = { id, time: time.toISOString(), ...fields }
    const level = record.result === 'failed' ? 'error' : record.result === 'refused' ? 'warn' : 'info'
    this.log[level]({ fileAudit: record }, `${record.operation} ${record.result}`)
    try {
      await this.records.set(id, record, { expiresAt: time.getTime() + this.limits.retentionDays * DAY_MS })
      this.count++
      if (this.count > this.limits.maxRecords) await this.trim()
    } catch (err) {
      this.log.error({ err }, 'could not store a file audit record')
    }
    const what = record.result === 'refused' || record.result === 'failed' ? record.result : EVENT_OF[record.operation]
    await this.bus
      .publish(this.topics.event('file', what ?? 'done'), event(`sense.file.${what}`, this.source, record), { qos: 1 })
      .catch((err: unknown) => this.log.warn({ err }, 'could not publish a file event'))
  }

  async recent(limit: number): Promise<AuditRecord[]> {
    const all = await this.records.list()
    return all
      .slice(-limit)
      .reverse()
      .map((e) => e.value)
  }

  private async trim(): Promise<void> {
    const excess = this.count - this.limits.maxRecords
    const old: string[] = []
    for await (const key of this.records.keys({ limit: excess })) old.push(key)
    await this.records.batch(old.map((key) => ({ type: 'delete' as const, key })))
    this.count -= old.length
  }
}
