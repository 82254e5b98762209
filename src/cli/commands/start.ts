import { dirname, resolve } from 'node:path'
import { Command } from 'commander'
import { oneOf, port } from '../exit.js'

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/** Which flag set which setting, so a config error can name it. */
const FLAG_NAMES: Record<string, string> = {
  'broker.mqtt.port': '--mqtt-port',
  'broker.ws.port': '--ws-port',
  'http.port': '--http-port',
  dataDir: '--data-dir',
  'log.level': '--log-level',
  'broker.mqtt.host': '--host',
  'broker.ws.host': '--host',
  'http.host': '--host',
}

export function startCommand(): Command {
  return new Command('start')
    .description('Start sensebus (embedded broker, HTTP shim, capabilities); no config file needed')
    .option('-c, --config <file>', 'YAML config file (optional)')
    .option('--host <address>', 'bind every listener to this address (default 127.0.0.1)')
    .option('--mqtt-port <port>', 'MQTT TCP port (0 = pick a free one)', port)
    .option('--ws-port <port>', 'MQTT over WebSocket port (0 = pick a free one)', port)
    .option('--http-port <port>', 'HTTP shim port (0 = pick a free one)', port)
    .option('--data-dir <dir>', 'where durable state lives (default ./data)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent', oneOf(LOG_LEVELS))
    .addHelpText(
      'after',
      `\nExample:\n  $ sensebus start\n  $ sensebus start --config sensebus.yaml --http-port 8080\n\nEnvironment: ` +
        `SENSEBUS_<SECTION>__<KEY> overrides a setting, e.g. SENSEBUS_HTTP__PORT=8081 (top-level settings: ` +
        `SENSEBUS_DATA_DIR, SENSEBUS_BASE_TOPIC). Client variables such as SENSEBUS_URL are not config.`,
    )
    .action(
      async (flags: {
        config?: string
        host?: string
        mqttPort?: number
        wsPort?: number
        httpPort?: number
        dataDir?: string
        logLevel?: string
      }) => {
        // Before the modules load, so that their start-up allocations already follow it (see heap.ts).
        const { applyHeapMode, DEFAULT_HEAP_MODE } = await import('../../startup/heap.js')
        applyHeapMode(DEFAULT_HEAP_MODE)
        // Loaded here, not at the top: the client verbs should not pay for every capability module.
        const [{ startApp }, { modules }, { loadConfig }, { createLogger }] = await Promise.all([
          import('../../app.js'),
          import('../../capabilities/index.js'),
          import('../../config/load.js'),
          import('../../log.js'),
        ])
        const overrides: Record<string, unknown> = {
          'broker.mqtt.port': flags.mqttPort,
          'broker.ws.port': flags.wsPort,
          'http.port': flags.httpPort,
          dataDir: flags.dataDir,
          'log.level': flags.logLevel,
        }
        if (flags.host)
          Object.assign(overrides, {
            'broker.mqtt.host': flags.host,
            'broker.ws.host': flags.host,
            'http.host': flags.host,
          })
        let config
        try {
          config = loadConfig(modules, {
            ...(flags.config ? { file: flags.config } : {}),
            env: process.env,
            overrides,
            flagNames: FLAG_NAMES,
          })
        } catch (err) {
          process.stderr.write(`${(err as Error).message}\n`)
          process.exit(1)
        }
        const log = createLogger(config.log)
        applyHeapMode(config.runtime.heap)
        log.info({ heap: config.runtime.heap }, 'V8 heap mode')
        // Handlers go in before start-up so a signal during it still ends in a clean stop.
        let app: Awaited<ReturnType<typeof startApp>> | undefined
        let stopping = false
        const stop = async (code: number) => {
          if (stopping) return
          stopping = true
          if (!app) return // start-up finishes, sees `stopping`, and stops
          log.info('shutting down')
          await app.stop()
          log.info('stopped')
          process.exit(code)
        }
        process.on('SIGINT', () => void stop(0))
        process.on('SIGTERM', () => void stop(0))
        process.on('unhandledRejection', (err) => {
          log.fatal({ err }, 'unhandled rejection')
          void stop(1)
        })
        process.on('uncaughtException', (err) => {
          log.fatal({ err }, 'uncaught exception')
          void stop(1)
        })
        try {
          // Relative paths in the file (certificates, templates, a webhook's CA) mean "next to the config file".
          const baseDir = flags.config ? dirname(resolve(flags.config)) : process.cwd()
          app = await startApp({ config, log, modules, baseDir })
        } catch (err) {
          log.fatal({ err }, 'sensebus could not start')
          process.stderr.write(`sensebus could not start: ${(err as Error).message}\n`)
          process.exit(1)
        }
        if (stopping) {
          stopping = false
          await stop(0)
        }
      },
    )
}
