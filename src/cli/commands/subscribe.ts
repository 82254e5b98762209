import { Command } from 'commander'
import { connectClient, fatal, withConnection, type ConnectionFlags } from '../connection.js'

export function subscribeCommand(): Command {
  return withConnection(new Command('subscribe'))
    .description('Print messages on a topic filter, one per line: <topic> <payload>')
    .argument('<filter>', 'topic filter, e.g. sense/# ')
    .option('--count <n>', 'exit after this many messages')
    .option('--timeout <ms>', 'exit (status 1) if --count messages have not arrived by then')
    .option('--qos <n>', 'subscription QoS', '1')
    .option('--json', 'print each message as a JSON line {topic, payload, retain}', false)
    .addHelpText(
      'after',
      `\nExample:\n  $ sensebus subscribe 'sense/state/kv/#' --count 1\n  $ sensebus subscribe 'sense/event/#' --json`,
    )
    .action(
      async (
        filter: string,
        flags: ConnectionFlags & { count?: string; timeout?: string; qos: string; json: boolean },
      ) => {
        const limit = flags.count === undefined ? Infinity : Number(flags.count)
        let client
        try {
          client = await connectClient(flags)
        } catch (err) {
          fatal(`Cannot connect to ${flags.url}: ${(err as Error).message}`)
        }
        let seen = 0
        const done = async (code: number) => {
          await client.endAsync()
          process.exit(code)
        }
        client.on('message', (topic, payload, packet) => {
          if (seen >= limit) return
          seen++
          const text = payload.toString('utf8')
          process.stdout.write(
            flags.json ? `${JSON.stringify({ topic, payload: text, retain: packet.retain })}\n` : `${topic} ${text}\n`,
          )
          if (seen >= limit) void done(0)
        })
        const granted = await client.subscribeAsync(filter, { qos: Number(flags.qos) as 0 | 1 | 2 })
        if (granted.some((g) => g.qos === 128)) {
          await client.endAsync()
          fatal(`The broker refused the subscription to '${filter}'`, 1)
        }
        if (flags.timeout !== undefined) setTimeout(() => void done(1), Number(flags.timeout))
      },
    )
}
