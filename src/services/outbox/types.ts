export type OutboxState = 'pending' | 'dead' | 'delivered'

/** One delivery: a message for one destination and one recipient, kept until it is delivered. */
export interface OutboxItem<P = unknown> {
  id: string
  /** Which handler delivers it (`email`, `slack`, `webhook`, …). */
  kind: string
  /**
   * The idempotency key: enqueueing the same key twice keeps one item, and the handler passes it on
   * (as the email Message-ID, an Idempotency-Key header) so a receiver can spot a duplicate.
   */
  key: string
  payload: P
  /** What the owner needs to report receipts (an alert id, a destination name). */
  meta: Record<string, unknown>
  state: OutboxState
  attempts: number
  createdAt: number
  nextAttemptAt: number
  lastError?: string
  deliveredAt?: number
  /** What the receiver answered on success (a message id, a status code). */
  receipt?: Record<string, unknown>
}

export type Outcome = 'delivered' | 'retrying' | 'dead'

export type DeliveryHandler<P = unknown> = (
  item: OutboxItem<P>,
  signal: AbortSignal,
) => Promise<Record<string, unknown> | undefined>

export interface KindOptions {
  /** Attempts before the item moves to dead letters (default from config). */
  maxAttempts?: number
  /** Deliveries of this kind at once. */
  concurrency?: number
  /** How long one attempt may take before it counts as failed. */
  timeoutMs?: number
}

export interface Outbox {
  /** Who delivers items of a kind; register before items of that kind come due. */
  register<P>(kind: string, handler: DeliveryHandler<P>, opts?: KindOptions): void
  /**
   * Durable once it resolves: the items survive a crash and will be delivered at least once. An item
   * whose key is already known is not added again; the known item comes back instead.
   */
  enqueue<P>(
    items: Array<{ kind: string; key: string; payload: P; meta?: Record<string, unknown> }>,
  ): Promise<OutboxItem<P>[]>
  /** A dead (or pending) item gets a fresh set of attempts, due now. */
  retry(id: string): Promise<OutboxItem>
  get(id: string): Promise<OutboxItem | undefined>
  list(filter?: { state?: OutboxState; kind?: string; limit?: number }): Promise<OutboxItem[]>
  stats(): { pending: number; delivering: number; dead: number }
  /** Every attempt's outcome, for receipts and events. */
  onOutcome(listener: (item: OutboxItem, outcome: Outcome) => void): () => void
  /** Stops starting deliveries and waits for those under way to record their outcome. */
  close(): Promise<void>
}
