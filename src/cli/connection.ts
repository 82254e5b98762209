import type { Command } from 'commander'
import mqtt, { type MqttClient } from 'mqtt'
import { MqttBus, disableNagle } from '../broker/mqtt-bus.js'
import { createTopics } from '../core/topics.js'
import { silentLogger } from '../log.js'

export interface ConnectionFlags {
  url: string
  username?: string
  password?: string
  baseTopic: string
}

/** The flags every broker-facing verb takes. */
export function withConnection(cmd: Command): Command {
  return cmd
    .option('--url <url>', 'broker URL (mqtt://, mqtts://, ws://, wss://)', process.env.SENSEBUS_URL ?? 'mqtt://127.0.0.1:1883')
    .option('--username <name>', 'MQTT user name', process.env.SENSEBUS_USERNAME)
    .option('--password <secret>', 'MQTT password (or set SENSEBUS_PASSWORD)', process.env.SENSEBUS_PASSWORD)
    .option('--base-topic <topic>', 'base topic', 'sense')
}

function auth(flags: ConnectionFlags): { username?: string; password?: string } {
  return { ...(flags.username ? { username: flags.username } : {}), ...(flags.password ? { password: flags.password } : {}) }
}

export async function connectClient(flags: ConnectionFlags): Promise<MqttClient> {
  const client = await mqtt.connectAsync(flags.url, { ...auth(flags), reconnectPeriod: 0, connectTimeout: 10_000 })
  disableNagle(client)
  return client
}

export function connectBus(flags: ConnectionFlags, timeoutMs: number): Promise<MqttBus> {
  return MqttBus.connect({ url: flags.url, ...auth(flags), defaultTimeoutMs: timeoutMs, log: silentLogger(), connectOptions: { reconnectPeriod: 0 } }, createTopics(flags.baseTopic))
}

/** Exit codes: 0 ok, 1 error envelope or bad input, 2 cannot reach the broker. */
export function fatal(message: string, code = 2): never {
  process.stderr.write(`${message}\n`)
  process.exit(code)
}
