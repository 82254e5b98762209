import type { Bus } from '../core/bus.js'
import type { Services } from '../core/services.js'
import type { Topics } from '../core/topics.js'
import { logLinesDropped } from '../log.js'
import type { Metrics } from './metrics.js'

/**
 * The gauges and counters that watch shared parts from outside: requests in flight, the outbox and
 * the scheduler's lateness. Modules register their own (KV) through `ctx.metrics`.
 */
export function watchBus(opts: {
  metrics: Metrics
  bus: Bus
  topics: Topics
  services: Partial<Services>
  inFlight: () => number
  cleanups: Array<() => Promise<void>>
}): void {
  const { metrics, services } = opts
  metrics.gauge('sensebus_requests_in_flight', 'Requests admitted and not yet answered', opts.inFlight)
  metrics.gauge('sensebus_broker_connected', '1 while the bus carries messages', () => (opts.bus.connected ? 1 : 0))
  metrics.gauge(
    'sensebus_log_lines_dropped',
    'Log lines dropped since start because stdout did not keep up (over 16 MB waiting); the process-wide count',
    logLinesDropped,
  )
  const outbox = services.outbox
  if (outbox) {
    metrics.gauge(
      'sensebus_outbox_items',
      'Outbox items by state (pending includes those being delivered)',
      () => {
        const s = outbox.stats()
        return [
          { labels: { state: 'pending' }, value: s.pending },
          { labels: { state: 'delivering' }, value: s.delivering },
          { labels: { state: 'dead' }, value: s.dead },
        ]
      },
      ['state'],
    )
    const deliveries = metrics.counter(
      'sensebus_outbox_deliveries_total',
      'Delivery attempts by destination kind (email, slack, teams, webhook, mqtt) and outcome',
      ['destination', 'outcome'],
    )
    const off = outbox.onOutcome((item, outcome) => deliveries.labels(item.kind, outcome).inc())
    opts.cleanups.push(async () => void off())
  }
  // Lateness of scheduled runs, from the scheduler's own `fired` events (only present when schedules run).
  const lateness = metrics.histogram(
    'sensebus_schedule_lateness_seconds',
    'How long after its planned time a scheduled run fired',
    [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 300],
  )
  const filter = `${opts.topics.base}/event/schedule/+/fired`
  void opts.bus
    .subscribe(filter, (msg) => {
      try {
        const data = (JSON.parse(msg.payload.toString()) as { data?: { scheduledFor?: string; firedAt?: string } }).data
        if (!data?.scheduledFor || !data.firedAt) return
        const late = (Date.parse(data.firedAt) - Date.parse(data.scheduledFor)) / 1000
        if (Number.isFinite(late)) lateness.observe(Math.max(0, late))
      } catch {
        // Someone else's malformed event on our topic: not a metric.
      }
    })
    .then((off) => opts.cleanups.push(off))
}
