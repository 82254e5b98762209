import { Command } from 'commander'
import { integer, port } from '../exit.js'

interface DemoFlags {
  certDir: string
  dataDir: string
  mailDir: string
  logFile: string
  failEvery: number
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
    .option('--mail-dir <dir>', 'where the local mail server saves each mail as a .eml file', './.sim/mail')
    .option('--log-file <file>', "sensebus' and the simulator's log (the terminal shows the alerts)", './.sim/demo.log')
    .option(
      '--fail-every <seconds>',
      'the simulator fails a reload task this often (0: only when asked)',
      integer(0, 86_400),
      25,
    )
    .option(
      '--udp-port <port>',
      'where the simulator sends log-appender datagrams (sensebus listens there; 0 = free)',
      port,
      9998,
    )
    .option('--qrs-port <port>', 'simulated QRS port (0 = free)', port, 4242)
    .option('--engine-port <port>', 'simulated Engine port (0 = free)', port, 4747)
    .option('--control-port <port>', 'simulator control API port (0 = free)', port, 8099)
    .option('--mqtt-port <port>', 'sensebus MQTT port (0 = free)', port)
    .option('--ws-port <port>', 'sensebus MQTT over WebSocket port (0 = free)', port)
    .option('--http-port <port>', 'sensebus HTTP port (0 = free)', port)
    .addHelpText(
      'after',
      '\nExample:\n  $ npm run demo\n  $ sensebus demo --fail-every 0 --http-port 8081\n' +
        '  $ curl -X POST http://127.0.0.1:8099/__sim/tasks/dec2a02a-1680-44ef-8dc2-e2bfb180af87/trigger',
    )
    .action(async (flags: DemoFlags) => {
      const { runDemo } = await import('../demo/run.js')
      const out = (text: string) => void process.stdout.write(text)
      let demo: Awaited<ReturnType<typeof runDemo>>
      try {
        demo = await runDemo({ ...flags, failEverySec: flags.failEvery, out })
      } catch (err) {
        process.stderr.write(`demo could not start: ${(err as Error).message}\n`)
        process.exit(1)
      }
      const stop = async () => {
        out('\nStopping the demo…\n')
        await demo.stop()
        process.exit(0)
      }
      process.once('SIGINT', () => void stop())
      process.once('SIGTERM', () => void stop())
    })
}
