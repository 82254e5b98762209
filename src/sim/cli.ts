import { Command, InvalidArgumentError, Option } from 'commander'
import type { SimulatorOptions } from './index.js'
import type { UdpTarget } from './udp/sender.js'

function port(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('must be a port number (0 picks a free one)')
  return n
}

/** `HOST:PORT`, `[v6]:PORT`. */
export function parseUdpTarget(value: string): UdpTarget {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(value) ?? /^([^:]+):(\d+)$/.exec(value)
  if (!match) throw new InvalidArgumentError('must be HOST:PORT')
  return { host: match[1] as string, port: port(match[2] as string) }
}

interface SimCliOptions {
  fixture?: string
  host: string
  qrsPort: number
  enginePort: number
  controlPort: number
  udpTarget: UdpTarget
  certDir: string
  json?: boolean
  logLevel: string
  vpPort?: number
  vpPrefix: string
  vpHeader: string
  vpDirectory?: string
}

/** `sensebus sim`: a simulated Qlik Sense site (QLIK-PROTOCOLS §4) until SIGINT/SIGTERM. */
export function simCommand(): Command {
  return new Command('sim')
    .description('Run a simulated Qlik Sense site (QRS, Engine, log-appender UDP) for development and tests')
    .option('--fixture <file>', 'fixture file (YAML or JSON); default: the bundled demo site')
    .option('--host <host>', 'interface the Qlik faces listen on', '127.0.0.1')
    .option('--qrs-port <port>', 'QRS HTTPS port (0 = free port)', port, 4242)
    .option('--engine-port <port>', 'Engine WSS port (0 = free port)', port, 4747)
    .option('--control-port <port>', 'control API port on loopback (0 = free port)', port, 8099)
    .option('--udp-target <host:port>', 'where log-appender datagrams go', parseUdpTarget, {
      host: '127.0.0.1',
      port: 9998,
    })
    .option('--cert-dir <dir>', 'QMC-style certificate export folder (created on first start)', './.sim/certs')
    .option('--json', 'print the chosen settings as one JSON line on stdout once every face listens')
    .option('--log-level <level>', 'log level (logs go to stderr)', 'info')
    .addOption(
      new Option('--vp-port <port>', 'also start a header-authentication virtual proxy on this port').argParser(port),
    )
    .option('--vp-prefix <prefix>', 'virtual-proxy prefix', 'hdr')
    .option('--vp-header <name>', 'virtual-proxy user header', 'X-Sense-User')
    .option('--vp-directory <dir>', 'static user directory for the virtual proxy (default: dynamic DIR\\user)')
    .addHelpText(
      'after',
      `\nExample:\n  $ sensebus sim --json\n  $ sensebus sim --qrs-port 0 --engine-port 0 --control-port 0 ` +
        `--udp-target 127.0.0.1:9998 --cert-dir /tmp/sim\n  $ sensebus start --config .sim/certs/sensebus.sim.yaml`,
    )
    .action(async (o: SimCliOptions) => {
      // Loaded when the verb runs, so other CLI verbs do not pay for the logger or the simulator.
      const [{ createLogger }, { startSimulator }] = await Promise.all([import('../log.js'), import('./index.js')])
      // stdout carries only the --json line; every log line goes to stderr.
      const log = createLogger({ level: o.logLevel, destination: process.stderr })
      const options: SimulatorOptions = {
        fixture: o.fixture,
        host: o.host,
        qrsPort: o.qrsPort,
        enginePort: o.enginePort,
        controlPort: o.controlPort,
        udpTarget: o.udpTarget,
        certDir: o.certDir,
        log,
        virtualProxy:
          o.vpPort === undefined
            ? undefined
            : { port: o.vpPort, prefix: o.vpPrefix, header: o.vpHeader, userDirectory: o.vpDirectory },
      }
      const sim = await startSimulator(options)
      if (o.json) process.stdout.write(`${JSON.stringify(sim.settings)}\n`)
      else log.info({ config: sim.settings.configFile, control: sim.settings.controlUrl }, 'simulator ready')
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals): void => {
          log.info({ signal }, 'simulator stopping')
          process.off('SIGINT', stop)
          process.off('SIGTERM', stop)
          resolve()
        }
        process.on('SIGINT', stop)
        process.on('SIGTERM', stop)
      })
      await sim.close()
    })
}

/** Adds `sim` to the sensebus program (called by src/cli/index.ts). */
export function registerSimCommand(program: Command): void {
  program.addCommand(simCommand())
}
