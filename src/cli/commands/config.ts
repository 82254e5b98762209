import { Command } from 'commander'
import { EXIT } from '../exit.js'
import { importButlerCommand } from './import-butler.js'

export function configCommand(): Command {
  const cmd = new Command('config').description('Validate or show configuration')
  cmd
    .command('check')
    .description(
      'Validate a config file as `start` reads it (with SENSEBUS_<SECTION>__<KEY> environment): the schema, then ' +
        'users, hashes, roles, exposure and TLS files; lists every problem as path: message',
    )
    .argument('<file>', 'YAML config file')
    .addHelpText('after', `\nExample:\n  $ sensebus config check sensebus.yaml\n\nExit codes: 0 ok, 1 problems found.`)
    .action(async (file: string) => {
      const [{ modules }, { loadConfig }, { preflight }] = await Promise.all([
        import('../../capabilities/index.js'),
        import('../../config/load.js'),
        import('../../startup/preflight.js'),
      ])
      try {
        preflight(loadConfig(modules, { file, env: process.env }), modules)
        process.stdout.write(`${file}: ok\n`)
      } catch (err) {
        process.stderr.write(`${(err as Error).message}\n`)
        process.exitCode = EXIT.ERROR
      }
    })
  cmd
    .command('print')
    .description('Print the effective config (file + SENSEBUS_* environment + defaults), secrets redacted')
    .option('-c, --config <file>', 'YAML config file')
    .addHelpText('after', `\nExample:\n  $ sensebus config print --config sensebus.yaml`)
    .action(async (flags: { config?: string }) => {
      const [{ modules }, { loadConfig, redactConfig }, { stringify }] = await Promise.all([
        import('../../capabilities/index.js'),
        import('../../config/load.js'),
        import('yaml'),
      ])
      try {
        const config = loadConfig(modules, { ...(flags.config ? { file: flags.config } : {}), env: process.env })
        process.stdout.write(stringify(redactConfig(config)))
      } catch (err) {
        process.stderr.write(`${(err as Error).message}\n`)
        process.exitCode = EXIT.ERROR
      }
    })
  cmd.addCommand(importButlerCommand())
  return cmd
}
