/**
 * What a module may register for `GET /metrics` (`ctx.metrics`): gauges read when scraped, counters
 * and histograms it updates itself. Names start with `sensebus_<area>_`. The Prometheus
 * implementation lives in ops/metrics.ts.
 */
export interface ModuleMetrics {
  /** `read` returns one value, or values by label. */
  gauge(
    name: string,
    help: string,
    read: () => number | Array<{ labels: Record<string, string>; value: number }>,
    labelNames?: string[],
  ): void
  counter(name: string, help: string, labelNames: string[]): { labels(...values: string[]): { inc(by?: number): void } }
  histogram(name: string, help: string, buckets: number[]): { observe(value: number): void }
}
