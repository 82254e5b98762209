import { Command } from 'commander'
import type { MqttClient } from 'mqtt'
import { createTopics, isValidPublishTopic } from '../../core/topics.js'
import { connectClient, type ConnectionFlags, withConnection } from '../connection.js'
import { CliError, EXIT, oneOf, usage } from '../exit.js'

/**
 * MQTT 3.1.1 has no negative PUBACK: a broker that refuses a publish closes the connection
 * ([MQTT-3.3.5-2]). Racing the acknowledgement against that close turns a silent hang into an answer.
 */
export function closedInstead(client: MqttClient, what: string, hint: string): Promise<never> {
  return new Promise((_, reject) => {
    const onClose = () => reject(new CliError(`The broker closed the connection instead of ${what}${hint}`, EXIT.ERROR))
    client.once('close', onClose)
  })
}

/** Why a broker (sensebus' own, at least) would refuse a publish to this topic. */
function refusalHint(topic: string, baseTopic: string): string {
  const topics = createTopics(baseTopic)
  if (topics.isOwned(topic)) {
    const area = `${topics.base}/${topics.areaOf(topic)}/`
    return `: only sensebus publishes under ${area} (send requests to ${topics.base}/request/...)`
  }
  return ': the user may not publish there'
}

export function publishCommand(): Command {
  return withConnection(new Command('publish'))
    .description('Publish one message (fire and forget)')
    .argument('<topic>', 'topic to publish to (no + or # wildcards)')
    .argument('<payload>', "payload text; '' publishes an empty payload (clears a retained message)")
    .option('--qos <n>', 'QoS 0, 1 or 2', oneOf(['0', '1', '2']), '1')
    .option('--retain', 'set the retain flag', false)
    .addHelpText(
      'after',
      `\nExample:\n  $ sensebus publish sense/request/util/ping '{"transaction":"t1"}'\n  $ sensebus publish ` +
        'my/status online --retain\n\n' +
        'Exit codes: 0 published (acknowledged at QoS 1 and 2), 1 the broker refused it, ' +
        `2 usage error, 3 cannot connect.`,
    )
    .action(async (topic: string, payload: string, flags: ConnectionFlags & { qos: string; retain: boolean }) => {
      if (!isValidPublishTopic(topic))
        throw usage(`Cannot publish to '${topic}': a topic name has no + or # wildcards and is not empty`)
      const qos = Number(flags.qos) as 0 | 1 | 2
      const client = await connectClient(flags)
      try {
        await Promise.race([
          client.publishAsync(topic, payload, { qos, retain: flags.retain }),
          closedInstead(client, `accepting the publish to '${topic}'`, refusalHint(topic, flags.baseTopic)),
        ])
      } finally {
        if (client.connected) await client.endAsync()
        else client.end(true)
      }
    })
}
