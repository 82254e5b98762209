import { Command, InvalidArgumentError } from 'commander'
import { DEFAULT_SCRYPT, hashPassword } from '../../security/hash.js'
import { promptHidden, readSecretFromStdin } from '../read-secret.js'

function scryptCost(value: string): number {
  const N = Number(value)
  if (!Number.isInteger(N) || N < 1024 || (N & (N - 1)) !== 0 || N > 2 ** 20)
    throw new InvalidArgumentError('must be a power of two between 1024 and 1048576')
  return N
}

export function passwdCommand(): Command {
  return new Command('passwd')
    .description('Hash an MQTT password for security.users[].passwordHash (scrypt, salted); prints the hash only')
    .option('--stdin', 'read the password from stdin (the default when stdin is not a terminal)', false)
    .option('--cost <N>', 'scrypt cost N, a power of two from 1024 to 1048576', scryptCost, DEFAULT_SCRYPT.N)
    .addHelpText(
      'after',
      `\nThe password is never taken as an argument: it would show in 'ps' and shell history.\n\nExample:\n  $ ` +
        `sensebus passwd\n  $ printf '%s' "$ETL_PASSWORD" | sensebus passwd --stdin\n\nThen in the config file:\n ` +
        ` security:\n    users:\n      - username: etl\n        passwordHash: scrypt$16384$8$1$...\n        ` +
        `roles: [loadscript]`,
    )
    .action(async (flags: { stdin: boolean; cost: number }) => {
      const N = flags.cost
      let password: string
      try {
        if (flags.stdin || !process.stdin.isTTY) {
          password = await readSecretFromStdin()
        } else {
          password = await promptHidden('Password: ')
          if ((await promptHidden('Again: ')) !== password) throw new Error('the passwords do not match')
        }
      } catch (err) {
        process.stderr.write(`${(err as Error).message}\n`)
        process.exitCode = 1
        return
      }
      if (password.length === 0) {
        process.stderr.write('An empty password cannot be hashed\n')
        process.exitCode = 1
        return
      }
      process.stdout.write(`${await hashPassword(password, { ...DEFAULT_SCRYPT, N })}\n`)
    })
}
