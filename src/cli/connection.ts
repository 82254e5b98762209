import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { MqttBus, disableNagle } from '../broker/mqtt-bus.js'
import { CLI_CLIENT_PREFIX } from '../core/identity.js'
import { createTopics } from '../core/topics.js'
import { silentLogger } from '../log.js'

export interface ConnectionFlags {
  url: string
  username?: string
  password?: string
  baseTopic: string
  /** mqtts/wss: PEM CA bundle to trust, client certificate and key, or no verification at all. */
  ca?: string
  cert?: string
  key?: string
  insecure?: boolean
}

/** The flags every broker-facing verb takes. */
export function withConnection(cmd: Command): Command {
  return cmd
    .option(
      '--url <url>',
      'broker URL (mqtt://, mqtts://, ws://, wss://)',
      process.env.SENSEBUS_URL ?? 'mqtt://127.0.0.1:1883',
    )
    .option('--username <name>', 'MQTT user name', process.env.SENSEBUS_USERNAME)
    .option('--password <secret>', 'MQTT password (or set SENSEBUS_PASSWORD)', process.env.SENSEBUS_PASSWORD)
    .option('--base-topic <topic>', 'base topic', 'sense')
    .option('--ca <file>', 'PEM CA bundle that signs the broker certificate (mqtts://, wss://)')
    .option('--cert <file>', 'PEM client certificate, for brokers that map certificates to users')
    .option('--key <file>', 'PEM private key of --cert')
    .option('--insecure', 'do not verify the broker certificate (testing only)', false)
}

function readPem(path: string, flag: string): Buffer {
  try {
    return readFileSync(path)
  } catch (err) {
    fatal(`Cannot read ${flag} ${path}: ${(err as Error).message}`, 1)
  }
}

/** User name, password and TLS material as mqtt.js options. */
function auth(flags: ConnectionFlags): IClientOptions {
  return {
    ...(flags.username ? { username: flags.username } : {}),
    ...(flags.password ? { password: flags.password } : {}),
    ...(flags.ca ? { ca: readPem(flags.ca, '--ca') } : {}),
    ...(flags.cert ? { cert: readPem(flags.cert, '--cert') } : {}),
    ...(flags.key ? { key: readPem(flags.key, '--key') } : {}),
    ...(flags.insecure ? { rejectUnauthorized: false } : {}),
  }
}

export async function connectClient(flags: ConnectionFlags): Promise<MqttClient> {
  const client = await mqtt.connectAsync(flags.url, { ...auth(flags), reconnectPeriod: 0, connectTimeout: 10_000 })
  disableNagle(client)
  return client
}

export function connectBus(flags: ConnectionFlags, timeoutMs: number): Promise<MqttBus> {
  return MqttBus.connect(
    {
      url: flags.url,
      clientId: `${CLI_CLIENT_PREFIX}${randomUUID().slice(0, 12)}`,
      defaultTimeoutMs: timeoutMs,
      log: silentLogger(),
      connectOptions: { ...auth(flags), reconnectPeriod: 0 },
    },
    createTopics(flags.baseTopic),
  )
}

/** Exit codes: 0 ok, 1 error envelope or bad input, 2 cannot reach the broker. */
export function fatal(message: string, code = 2): never {
  process.stderr.write(`${message}\n`)
  process.exit(code)
}
