import { CapabilityError } from '../core/errors.js'
import { loadSenseCertificates } from '../sense/certs.js'
import { isSenseEnabled, type SenseConfig, senseConfigSchema } from '../sense/config.js'
import { createEngineClient, type EngineClient } from '../sense/engine/index.js'
import { createQrsClient, type QrsClient } from '../sense/qrs/index.js'
import { defineService } from './define.js'

export type SenseState = 'online' | 'degraded' | 'unconfigured'

/** The Qlik Sense site: QRS and Engine clients built once from `sense:`, and whether it answers. */
export interface SenseService {
  readonly configured: boolean
  /** Throws NOT_CONFIGURED when `sense.host` is not set. */
  readonly qrs: QrsClient
  /** Throws NOT_CONFIGURED when `sense.host` is not set. */
  readonly engine: EngineClient
  state(): SenseState
  /** Asks QRS now; true when it answered. Callers that just found Sense unreachable use it. */
  probe(): Promise<boolean>
  /** Stops the probe and closes pooled connections. */
  close(): void
}

declare module '../core/services.js' {
  interface Services {
    sense: SenseService
  }
}

const notConfigured = () =>
  new CapabilityError('NOT_CONFIGURED', 'Qlik Sense is not configured: set sense.host (and sense.certs) in the config')

function engineOptions(config: SenseConfig & { host: string }, baseDir: string) {
  const certs = loadSenseCertificates(config.certs, baseDir)
  return {
    host: config.host,
    port: config.engine.port,
    certs: {
      cert: certs.cert,
      key: certs.key,
      ca: certs.ca,
      ...(certs.passphrase ? { passphrase: certs.passphrase } : {}),
    },
    user: config.user,
    rejectUnauthorized: config.rejectUnauthorized,
    timeoutMs: config.engine.timeoutMs,
  }
}

/**
 * A health probe (`GET /qrs/about`, no retries, a short timeout) runs every `sense.healthIntervalMs`
 * and reports to the app's health, which moves `<base>/bridge/state` between online and degraded.
 */
export const senseService = defineService<'sense', SenseConfig>({
  name: 'sense',
  configSchema: senseConfigSchema,
  async create({ config, log, baseDir, health }) {
    if (!isSenseEnabled(config)) {
      health.report('sense', 'unconfigured', 'sense.host is not set')
      return {
        configured: false,
        get qrs(): QrsClient {
          throw notConfigured()
        },
        get engine(): EngineClient {
          throw notConfigured()
        },
        state: () => 'unconfigured',
        probe: async () => false,
        close: () => undefined,
      }
    }
    const slog = log.child({ area: 'sense' })
    const qrs = createQrsClient(config, { log: slog, baseDir })
    const engine = createEngineClient(engineOptions(config, baseDir), slog)
    const probeTimeoutMs = Math.min(5_000, config.healthIntervalMs)
    const prober = createQrsClient(
      { ...config, qrs: { ...config.qrs, retries: 0, timeoutMs: probeTimeoutMs } },
      { log: slog, baseDir },
    )
    let state: SenseState = 'online'
    let probing: Promise<boolean> | undefined
    const probe = () =>
      (probing ??= prober
        .about()
        .then(
          () => {
            if (state !== 'online') slog.info('Qlik Sense answers again')
            state = 'online'
            health.report('sense', 'ok')
            return true
          },
          (err: unknown) => {
            if (state !== 'degraded') slog.warn({ err: (err as Error).message }, 'Qlik Sense does not answer')
            state = 'degraded'
            health.report('sense', 'degraded', (err as Error).message)
            return false
          },
        )
        .finally(() => {
          probing = undefined
        }))
    const timer = setInterval(() => void probe(), config.healthIntervalMs)
    timer.unref()
    void probe()
    return {
      configured: true,
      qrs,
      engine,
      state: () => state,
      probe,
      close() {
        clearInterval(timer)
        qrs.close()
        prober.close()
      },
    }
  },
  async stop(service) {
    service.close()
  },
})
