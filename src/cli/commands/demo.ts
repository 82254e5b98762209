import { Command } from 'commander'
import { startApp } from '../../app.js'
import { modules } from '../../capabilities/index.js'
import { loadConfig } from '../../config/load.js'
import { createLogger } from '../../log.js'
import { startSimulator } from '../../sim/index.js'

export function demoCommand(): Command {
  return new Command('demo')
    .description('Start the Qlik Sense simulator and sensebus wired together (try it without a Sense site)')
    .option('--cert-dir <dir>', 'where the simulator writes its QMC-style certificate export and sensebus config', './.sim/certs')
    .option('--data-dir <dir>', 'sensebus data directory', './.sim/data')
    .option('--udp-port <port>', 'where the simulator sends log-appender datagrams (sensebus listens there)', '9998')
    .addHelpText('after', `\nExample:\n  $ npm run demo\n  $ sensebus demo --cert-dir /tmp/sim-certs`)
    .action(async (flags: { certDir: string; dataDir: string; udpPort: string }) => {
      const log = createLogger({ level: process.env.SENSEBUS_LOG__LEVEL ?? 'info' })
      const sim = await startSimulator({ certDir: flags.certDir, udpTarget: { host: '127.0.0.1', port: Number(flags.udpPort) }, log })
      const config = loadConfig(modules, { file: sim.settings.configFile, env: process.env, overrides: { dataDir: flags.dataDir } })
      const app = await startApp({ config, log, modules })
      log.info(
        {
          simulator: { qrs: `https://127.0.0.1:${sim.settings.qrsPort}/qrs`, engine: `wss://127.0.0.1:${sim.settings.enginePort}`, control: sim.settings.controlUrl, certs: sim.settings.certDir },
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
