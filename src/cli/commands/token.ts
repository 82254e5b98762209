import { Command } from 'commander'
import { stringify } from 'yaml'
import { generateToken } from '../../security/hash.js'

export function tokenCommand(): Command {
  return new Command('token')
    .description('Mint an API token for the HTTP shim: prints the token once and the hash to put in the config')
    .option('--name <name>', 'name the token appears under in audit logs', 'api')
    .option('--role <role...>', 'roles the token grants', ['loadscript'])
    .option('--json', 'print {name, token, hash, roles} as JSON', false)
    .addHelpText(
      'after',
      `\nOnly the hash is stored in the config; the token itself is shown here once.\nCallers send it as: ` +
        `Authorization: Bearer <token>\n\nExample:\n  $ sensebus token --name etl-scripts --role loadscript`,
    )
    .action((flags: { name: string; role: string[]; json: boolean }) => {
      const { token, hash } = generateToken()
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ name: flags.name, token, hash, roles: flags.role })}\n`)
        return
      }
      const snippet = stringify({ security: { tokens: [{ name: flags.name, hash, roles: flags.role }] } })
      process.stdout.write(
        `Token (give it to the caller; it is not stored and cannot be shown again):\n  ${token}\n\nAdd to the ` +
          `config file:\n${snippet.replace(/^/gm, '  ')}`,
      )
    })
}
