import { type Command, CommanderError, InvalidArgumentError } from 'commander'

/**
 * The CLI's exit codes, one meaning each, so scripts can branch on them (documented in the README).
 * mosquitto_pub/sub habits: a usage mistake is not the same failure as a broker that is not there.
 */
export const EXIT = {
  OK: 0,
  /** An error envelope, or the broker refused what was asked (a publish, a subscription). */
  ERROR: 1,
  /** The command line is wrong: an unknown option, a bad number, a topic with wildcards, bad JSON. */
  USAGE: 2,
  /** No broker, the broker refused the login, or no sensebus answers on it. */
  CONNECT: 3,
  /** sensebus is there, but no answer came in time. */
  TIMEOUT: 4,
} as const
export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

/** A failure the CLI reports as one line on stderr and an exit code; never a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message)
    this.name = 'CliError'
  }
}

export const usage = (message: string) => new CliError(message, EXIT.USAGE)

/** Prints and exits. The only place a verb ends the process on failure. */
export function fail(message: string, code: ExitCode): never {
  process.stderr.write(`${message}\n`)
  process.exit(code)
}

/** Commander's own errors (unknown option, missing argument, bad option value) exit with USAGE. */
export function usageErrorsExit2(cmd: Command): void {
  cmd.exitOverride((err: CommanderError) => {
    // Help and --version end with exit code 0; everything else commander reports is a usage error.
    process.exit(err.exitCode === 0 ? EXIT.OK : EXIT.USAGE)
  })
  for (const sub of cmd.commands) usageErrorsExit2(sub)
}

/** What the top level does with an error a verb let through: one line, the right code. */
export function reportAndExit(err: unknown): never {
  if (err instanceof CliError) fail(err.message, err.exitCode)
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? EXIT.OK : EXIT.USAGE)
  fail(`sensebus: ${(err as Error)?.message ?? String(err)}`, EXIT.ERROR)
}

/** Option parsers: a bad value is a usage error naming the option, not NaN. */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = Number(value)
    if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(
        max === Number.MAX_SAFE_INTEGER ? `must be a whole number >= ${min}` : `must be a whole number ${min}..${max}`,
      )
    return n
  }
}

export const port = integer(0, 65_535)

export function oneOf<T extends string>(allowed: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(allowed as readonly string[]).includes(value))
      throw new InvalidArgumentError(`must be one of ${allowed.join(', ')}`)
    return value as T
  }
}
