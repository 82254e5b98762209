import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { AuditRecord } from '../core/dispatch.js'
import type { ModuleMetrics } from '../core/metrics.js'

/** Buckets in seconds: a KV call answers in well under a millisecond, a reload may take minutes. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]

const UNKNOWN = '(unknown)'

type RequestCounter = { inc(): void }
type LatencyChild = { observe(v: number): void }

/**
 * The Prometheus registry of one sensebus instance (its own, so several apps in one process, as in
 * the tests, do not mix). Per request the cost is a map look-up and two increments: the label
 * children are created once per capability and outcome, and gauges are read only when scraped.
 */
export class Metrics implements ModuleMetrics {
  readonly registry = new Registry()
  private readonly requests: Counter<'capability' | 'status'>
  private readonly latency: Histogram<'capability'>
  private readonly busy: Counter
  private readonly forbidden: Counter<'via'>
  private readonly counters = new Map<string, Map<string, RequestCounter>>()
  private readonly latencies = new Map<string, LatencyChild>()

  /** `capabilities`: the names that get their own series; anything else a caller names counts as '(unknown)'. */
  constructor(opts: { capabilities: readonly string[]; processMetrics?: boolean }) {
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'sensebus_' })
    const registers = [this.registry]
    this.requests = new Counter({
      name: 'sensebus_requests_total',
      help: "Answered requests by capability and status ('ok' or the error code), whatever the door",
      labelNames: ['capability', 'status'],
      registers,
    })
    this.latency = new Histogram({
      name: 'sensebus_request_duration_seconds',
      help: 'Time from a request arriving to its answer, by capability',
      labelNames: ['capability'],
      buckets: LATENCY_BUCKETS,
      registers,
    })
    this.busy = new Counter({
      name: 'sensebus_busy_total',
      help: 'Requests refused BUSY (in-flight limits)',
      registers,
    })
    this.forbidden = new Counter({
      name: 'sensebus_forbidden_total',
      help:
        'Refusals by door: bus = requests answered FORBIDDEN (any door), http = calls the shim refused ' +
        '(401/403), mqtt = client publishes the broker ACL refused (dropped or connection closed)',
      labelNames: ['via'],
      registers,
    })
    for (const name of opts.capabilities) this.counters.set(name, new Map())
  }

  /** The dispatcher's record of one answered request. */
  requestAnswered(record: AuditRecord): void {
    let capability = record.capability
    let byStatus = this.counters.get(capability)
    if (!byStatus) {
      // Unknown names come from callers: one series for all of them, not one each.
      capability = UNKNOWN
      byStatus = this.counters.get(UNKNOWN) ?? new Map()
      this.counters.set(UNKNOWN, byStatus)
    }
    let counter = byStatus.get(record.outcome)
    if (!counter) {
      counter = this.requests.labels(capability, record.outcome)
      byStatus.set(record.outcome, counter)
    }
    counter.inc()
    let latency = this.latencies.get(capability)
    if (!latency) {
      latency = this.latency.labels(capability)
      this.latencies.set(capability, latency)
    }
    latency.observe(record.durationMs / 1000)
    if (record.outcome === 'BUSY') this.busy.inc()
    else if (record.outcome === 'FORBIDDEN') this.forbidden.labels('bus').inc()
  }

  /** A call the HTTP shim refused before it reached the bus. */
  httpRefused(): void {
    this.forbidden.labels('http').inc()
  }

  /** An MQTT client's publish that the broker's ACL refused (authorizePublish). */
  publishDenied(): void {
    this.forbidden.labels('mqtt').inc()
  }

  /** A gauge read when scraped: `read` returns one value, or values by label. */
  gauge(
    name: string,
    help: string,
    read: () => number | Array<{ labels: Record<string, string>; value: number }>,
    labelNames: string[] = [],
  ): void {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        const v = read()
        if (typeof v === 'number') this.set(v)
        else {
          this.reset()
          for (const { labels, value } of v) this.set(labels, value)
        }
      },
    })
  }

  counter<L extends string>(name: string, help: string, labelNames: L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] })
  }

  histogram(name: string, help: string, buckets: number[]): Histogram {
    return new Histogram({ name, help, buckets, registers: [this.registry] })
  }

  /** The Prometheus text exposition. */
  async text(): Promise<{ type: string; body: string }> {
    return { type: this.registry.contentType, body: await this.registry.metrics() }
  }
}
