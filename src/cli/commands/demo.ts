import { Command } from 'commander'
import { port } from '../exit.js'

interface DemoFlags {
  certDir: string
  dataDir: string
  udpPort: number
  qrsPort: number
  enginePort: number
  controlPort: number
  mqttPort?: number
  wsPort?: number
  httpPort?: number
}

export function demoCommand(): Command {
  return new Command('demo')
    .description('Start the Qlik Sense simulator and sensebus wired together (try it without a Sense site)')
    .option(
      '--cert-dir <dir>',
      'where the simulator writes its QMC-style certificate export and sensebus config',
      './.sim/certs',
    )
    .option('--data-dir <dir>', 'sensebus data directory', './.sim/data')
    .option(
      '--udp-port <port>',
      'where the simulator sends log-appender datagrams (sensebus listens there)',
      port,
      9998,
    )
    .option('--qrs-port <port>', 'simulated QRS port (0 = free)', port, 4242)
    .option('--engine-port <port>', 'simulated Engine port (0 = free)', port, 4747)
    .option('--control-port <port>', 'simulator control API port (0 = free)', port, 8099)
    .option('--mqtt-port <port>', 'sensebus MQTT port (0 = free)', port)
    .option('--ws-port <port>', 'sensebus MQTT over WebSocket port (0 = free)', port)
    .option('--http-port <port>', 'sensebus HTTP port (0 = free)', port)
    .addHelpText('after', `\nExample:\n  $ npm run demo\n  $ sensebus demo --cert-dir /tmp/sim-certs --http-port 8081`)
    .action(async (flags: DemoFlags) => {
      const [{ startApp }, { modules }, { loadConfig }, { createLogger }, { startSimulator }] = await Promise.all([
        import('../../app.js'),
        import('../../capabilities/index.js'),
        import('../../config/load.js'),
        import('../../log.js'),
        import('../../sim/index.js'),
      ])
      const log = createLogger({ level: process.env.SENSEBUS_LOG__LEVEL ?? 'info' })
      const sim = await startSimulator({
        certDir: flags.certDir,
        udpTarget: { host: '127.0.0.1', port: flags.udpPort },
        qrsPort: flags.qrsPort,
        enginePort: flags.enginePort,
        controlPort: flags.controlPort,
        log,
      })
      const overrides = {
        dataDir: flags.dataDir,
        'broker.mqtt.port': flags.mqttPort,
        'broker.ws.port': flags.wsPort,
        'http.port': flags.httpPort,
      }
      let app
      try {
        // The simulator wrote this config: sensebus points at it exactly as it would at a real site.
        const config = loadConfig(modules, { file: sim.settings.configFile, env: process.env, overrides })
        app = await startApp({ config, log, modules })
      } catch (err) {
        await sim.close()
        process.stderr.write(`demo could not start: ${(err as Error).message}\n`)
        process.exit(1)
      }
      log.info(
        {
          simulator: {
            qrs: `https://127.0.0.1:${sim.settings.qrsPort}/qrs`,
            engine: `wss://127.0.0.1:${sim.settings.enginePort}`,
            control: sim.settings.controlUrl,
            certs: sim.settings.certDir,
          },
          sensebus: app.endpoints,
          config: sim.settings.configFile,
        },
        'demo ready: try `npx sensebus subscribe "sense/#"` and `npx sensebus request util/ping`',
      )
      const stop = async () => {
        await app.stop()
        await sim.close()
        process.exit(0)
      }
      process.once('SIGINT', () => void stop())
      process.once('SIGTERM', () => void stop())
    })
}
