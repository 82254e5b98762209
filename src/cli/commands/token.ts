import { Command } from 'commander'
import { builtInRoles } from '../../security/roles.js'
import { generateToken } from '../../security/hash.js'
import { CliError, EXIT, usage } from '../exit.js'

/** Built-in roles, plus those the config file defines when one is given. */
async function knownRoles(configFile: string | undefined): Promise<string[]> {
  const builtIn = Object.keys(builtInRoles({ loadscript: [], observer: [] }))
  if (!configFile) return builtIn
  const [{ modules }, { loadConfig }] = await Promise.all([
    import('../../capabilities/index.js'),
    import('../../config/load.js'),
  ])
  try {
    return [...builtIn, ...Object.keys(loadConfig(modules, { file: configFile }).security.roles)]
  } catch (err) {
    throw new CliError((err as Error).message, EXIT.ERROR)
  }
}

export function tokenCommand(): Command {
  return new Command('token')
    .description('Mint an API token for the HTTP shim: prints the token once and the hash to put in the config')
    .option('--name <name>', 'name the token appears under in audit logs', 'api')
    .option('--role <role...>', 'roles the token grants', ['loadscript'])
    .option('-c, --config <file>', 'config file whose security.roles may be granted too (built-in roles always)')
    .option('--json', 'print {name, token, hash, roles} as JSON', false)
    .addHelpText(
      'after',
      `\nOnly the hash is stored in the config; the token itself is shown here once.\nCallers send it as: ` +
        `Authorization: Bearer <token>\n\nExample:\n  $ sensebus token --name etl-scripts --role loadscript\n  ` +
        `$ sensebus token --name reports --role reporting --config sensebus.yaml`,
    )
    .action(async (flags: { name: string; role: string[]; json: boolean; config?: string }) => {
      const known = await knownRoles(flags.config)
      const unknown = flags.role.filter((r) => !known.includes(r))
      if (unknown.length > 0)
        throw usage(
          `Unknown role${unknown.length > 1 ? 's' : ''} ${unknown.map((r) => `'${r}'`).join(', ')} (known: ` +
            `${known.join(', ')}${flags.config ? '' : '; roles defined in a config file need --config FILE'})`,
        )
      const { token, hash } = generateToken()
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ name: flags.name, token, hash, roles: flags.role })}\n`)
        return
      }
      const { stringify } = await import('yaml')
      const snippet = stringify({ security: { tokens: [{ name: flags.name, hash, roles: flags.role }] } })
      process.stdout.write(
        `Token (give it to the caller; it is not stored and cannot be shown again):\n  ${token}\n\nAdd to the ` +
          `config file:\n${snippet.replace(/^/gm, '  ')}`,
      )
    })
}
