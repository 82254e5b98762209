import { Command } from 'commander'
import { stringify } from 'yaml'
import { modules } from '../../capabilities/index.js'
import { type ConfigError, loadConfig, redactConfig } from '../../config/load.js'

export function configCommand(): Command {
  const cmd = new Command('config').description('Validate or show configuration')
  cmd
    .command('check')
    .description('Validate a config file; lists every problem as path: message')
    .argument('<file>', 'YAML config file')
    .addHelpText('after', `\nExample:\n  $ sensebus config check sensebus.yaml`)
    .action((file: string) => {
      try {
        loadConfig(modules, { file })
        process.stdout.write(`${file}: ok\n`)
      } catch (err) {
        process.stderr.write(`${(err as Error).message}\n`)
        process.exitCode = 1
      }
    })
  cmd
    .command('print')
    .description('Print the effective config (file + SENSEBUS_* environment + defaults), secrets redacted')
    .option('-c, --config <file>', 'YAML config file')
    .addHelpText('after', `\nExample:\n  $ sensebus config print --config sensebus.yaml`)
    .action((flags: { config?: string }) => {
      try {
        const config = loadConfig(modules, { ...(flags.config ? { file: flags.config } : {}), env: process.env })
        process.stdout.write(stringify(redactConfig(config)))
      } catch (err) {
        process.stderr.write(`${(err as ConfigError).message}\n`)
        process.exitCode = 1
      }
    })
  return cmd
}
