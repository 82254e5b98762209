import type { Collection } from '../../core/store.js'
import { CapabilityError } from '../../core/errors.js'

interface RetainedRecord {
  bytes: number
  at: number
}

/**
 * The topics mqtt/publish left a retained message on, so their number stays under a limit: a retained
 * message lives in the broker (and its persistence) until someone clears it, so unbounded retained
 * publishes would grow memory and disk without end. Clearing (an empty retained message) frees a place.
 * Changes run one at a time so two publishes cannot both take the last place.
 */
export class RetainedLedger {
  private count = 0
  private chain: Promise<unknown> = Promise.resolve()

  private constructor(
    private readonly records: Collection<RetainedRecord>,
    private readonly max: number,
  ) {}

  static async open(records: Collection<RetainedRecord>, max: number): Promise<RetainedLedger> {
    const ledger = new RetainedLedger(records, max)
    for await (const _ of records.keys()) ledger.count++
    return ledger
  }

  /** Runs `publish` if the topic may hold one more retained message, then records what it holds. */
  update(topic: string, bytes: number, publish: () => Promise<void>): Promise<void> {
    const run = this.chain.then(async () => {
      const known = (await this.records.get(topic)) !== undefined
      if (bytes > 0 && !known && this.count >= this.max) {
        throw new CapabilityError(
          'LIMIT_EXCEEDED',
          `mqtt/publish already holds ${this.max} retained topics (capabilities.mqtt.maxRetainedTopics); ` +
            'clear one with an empty retained message',
          { details: { limit: this.max } },
        )
      }
      await publish()
      if (bytes === 0) {
        if (await this.records.delete(topic)) this.count--
      } else {
        await this.records.set(topic, { bytes, at: Date.now() })
        if (!known) this.count++
      }
    })
    this.chain = run.catch(() => undefined)
    return run
  }
}
