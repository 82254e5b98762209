import { Command } from 'commander'
import { connectClient, fatal, withConnection, type ConnectionFlags } from '../connection.js'

export function publishCommand(): Command {
  return withConnection(new Command('publish'))
    .description('Publish one message (fire and forget)')
    .argument('<topic>', 'topic to publish to')
    .argument('<payload>', "payload text; '' publishes an empty payload (clears a retained message)")
    .option('--qos <n>', 'QoS 0, 1 or 2', '1')
    .option('--retain', 'set the retain flag', false)
    .addHelpText(
      'after',
      `\nExample:\n  $ sensebus publish sense/request/util/ping '{"transaction":"t1"}'\n  $ sensebus publish ` +
        `my/status online --retain`,
    )
    .action(async (topic: string, payload: string, flags: ConnectionFlags & { qos: string; retain: boolean }) => {
      const qos = Number(flags.qos)
      if (qos !== 0 && qos !== 1 && qos !== 2) fatal('--qos must be 0, 1 or 2', 1)
      let client
      try {
        client = await connectClient(flags)
      } catch (err) {
        fatal(`Cannot connect to ${flags.url}: ${(err as Error).message}`)
      }
      try {
        await client.publishAsync(topic, payload, { qos, retain: flags.retain })
      } catch (err) {
        fatal(`Publish failed: ${(err as Error).message}`, 1)
      } finally {
        await client.endAsync()
      }
    })
}
