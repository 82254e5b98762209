import { Command } from 'commander'
import { isValidFilter } from '../../core/topics.js'
import { connectClient, type ConnectionFlags, withConnection } from '../connection.js'
import { CliError, EXIT, integer, oneOf, usage } from '../exit.js'

interface SubscribeFlags extends ConnectionFlags {
  count?: number
  timeout?: number
  qos: string
  json: boolean
}

/** `--json`: a JSON payload is printed as JSON, anything else as a string. */
function jsonLine(topic: string, payload: Buffer, retain: boolean): string {
  const text = payload.toString('utf8')
  let value: unknown = text
  try {
    value = JSON.parse(text)
  } catch {
    // not JSON: printed as the string it is
  }
  return `${JSON.stringify({ topic, payload: value, retain })}\n`
}

export function subscribeCommand(): Command {
  return withConnection(new Command('subscribe'))
    .description('Print messages on a topic filter, one per line: <topic> <payload>')
    .argument('<filter>', 'topic filter, e.g. sense/# ')
    .option('--count <n>', 'exit after this many messages', integer(1))
    .option('--timeout <ms>', 'exit (status 4) if --count messages have not arrived by then', integer(1))
    .option('--qos <n>', 'subscription QoS', oneOf(['0', '1', '2']), '1')
    .option('--json', 'print each message as a JSON line {topic, payload, retain}; JSON payloads stay JSON', false)
    .addHelpText(
      'after',
      "\nExample:\n  $ sensebus subscribe 'sense/state/kv/#' --count 1\n" +
        "  $ sensebus subscribe 'sense/event/#' --json\n\n" +
        `When the broker goes away, subscribe says so on stderr and reconnects every second (as mosquitto_sub).\n` +
        `Exit codes: 0 --count messages arrived, 1 the broker refused the subscription, 2 usage error, 3 cannot ` +
        `connect, 4 --timeout passed first.`,
    )
    .action(async (filter: string, flags: SubscribeFlags) => {
      if (!isValidFilter(filter))
        throw usage(
          `'${filter}' is not a topic filter: + stands for a whole level and # only for the whole last level ` +
            `(e.g. sense/+/kv/# )`,
        )
      const client = await connectClient(flags, { reconnect: true })
      const limit = flags.count ?? Number.POSITIVE_INFINITY
      let seen = 0
      const done = async (code: number) => {
        client.end(true)
        process.exit(code)
      }
      let lost = false
      client.on('close', () => {
        if (lost) return
        lost = true
        process.stderr.write(`Connection to ${flags.url} lost; reconnecting\n`)
      })
      client.on('connect', () => {
        if (!lost) return
        lost = false
        process.stderr.write(`Reconnected to ${flags.url}\n`)
      })
      client.on('error', () => undefined) // reported through 'close'; mqtt.js keeps retrying
      client.on('message', (topic, payload, packet) => {
        if (seen >= limit) return
        seen++
        process.stdout.write(
          flags.json ? jsonLine(topic, payload, packet.retain) : `${topic} ${payload.toString('utf8')}\n`,
        )
        if (seen >= limit) void done(EXIT.OK)
      })
      let granted: Array<{ qos: number }>
      try {
        granted = await client.subscribeAsync(filter, { qos: Number(flags.qos) as 0 | 1 | 2 })
      } catch (err) {
        client.end(true)
        throw new CliError(`The broker refused the subscription to '${filter}': ${(err as Error).message}`, EXIT.ERROR)
      }
      if (granted.some((g) => g.qos === 128)) {
        client.end(true)
        throw new CliError(
          `The broker refused the subscription to '${filter}' (SUBACK 0x80): the user may not read there`,
          EXIT.ERROR,
        )
      }
      if (flags.timeout !== undefined) setTimeout(() => void done(EXIT.TIMEOUT), flags.timeout)
    })
}
