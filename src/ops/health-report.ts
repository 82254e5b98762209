import type { Bus } from '../core/bus.js'
import type { Health } from '../core/health.js'
import type { Store } from '../core/store.js'

export type ComponentStatus = 'ok' | 'degraded' | 'down' | 'unconfigured'

export interface HealthReport {
  /** ok: ready and nothing degraded; degraded: ready, something optional is not; down: not ready. */
  status: 'ok' | 'degraded' | 'down'
  /** The process answers: always true in an answer. */
  live: true
  /** Requests can be served now: the broker carries messages, the store reads. */
  ready: boolean
  version: string
  uptimeSeconds: number
  components: Record<string, { status: ComponentStatus; detail?: string; since?: string }>
}

export interface HealthReporterOptions {
  bus: Bus
  health: Health
  store: Store | undefined
  version: string
  /** An unreachable Sense makes the service not ready (503), for set-ups that are only about Sense. */
  senseRequired: boolean
  /** True once shutdown began: a load balancer should stop sending. */
  stopping: () => boolean
  /** How long the store probe may take before the store counts as down. */
  probeTimeoutMs?: number
}

/**
 * Liveness and readiness for `GET /health`: the broker and the store are probed when asked (a read
 * of one key, bounded by a timeout); Sense reachability comes from the Sense service's own probe.
 */
export function healthReporter(opts: HealthReporterOptions): () => Promise<HealthReport> {
  const started = Date.now()
  const probeTimeoutMs = opts.probeTimeoutMs ?? 2_000
  const probe = opts.store?.collection<unknown>('health')
  const storeStatus = async (): Promise<{ status: ComponentStatus; detail?: string }> => {
    if (!probe) return { status: 'unconfigured', detail: 'no capability uses the store' }
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${probeTimeoutMs} ms`)), probeTimeoutMs)
    })
    try {
      await Promise.race([probe.get('probe'), timeout])
      return { status: 'ok' }
    } catch (err) {
      return { status: 'down', detail: (err as Error).message }
    } finally {
      clearTimeout(timer)
    }
  }

  return async () => {
    const components: HealthReport['components'] = {}
    components.broker = opts.bus.connected
      ? { status: 'ok' }
      : { status: 'down', detail: 'not connected to the broker' }
    components.store = await storeStatus()
    for (const e of opts.health.snapshot()) {
      components[e.component] = { status: e.status, ...(e.detail ? { detail: e.detail } : {}), since: e.since }
    }
    if (opts.stopping()) components.service = { status: 'down', detail: 'shutting down' }
    const required = ['broker', 'store', 'service', ...(opts.senseRequired ? ['sense'] : [])]
    const ready = !Object.entries(components).some(
      ([name, c]) => required.includes(name) && (c.status === 'down' || c.status === 'degraded'),
    )
    const degraded = Object.values(components).some((c) => c.status === 'degraded' || c.status === 'down')
    return {
      status: ready ? (degraded ? 'degraded' : 'ok') : 'down',
      live: true,
      ready,
      version: opts.version,
      uptimeSeconds: Math.round((Date.now() - started) / 1000),
      components,
    }
  }
}
