import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import type { IClientOptions, MqttClient } from 'mqtt'
import type { MqttBus } from '../broker/mqtt-bus.js'
import { CLI_CLIENT_PREFIX } from '../core/identity.js'
import { createTopics } from '../core/topics.js'
import { CliError, EXIT, usage } from './exit.js'

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

const SCHEMES = ['mqtt:', 'mqtts:', 'ws:', 'wss:']

/** The flags every broker-facing verb takes. */
export function withConnection(cmd: Command): Command {
  return cmd
    .option(
      '--url <url>',
      'broker URL (mqtt://, mqtts://, ws://, wss://) (env: SENSEBUS_URL)',
      process.env.SENSEBUS_URL ?? 'mqtt://127.0.0.1:1883',
    )
    .option('--username <name>', 'MQTT user name (env: SENSEBUS_USERNAME)', process.env.SENSEBUS_USERNAME)
    .option('--password <secret>', 'MQTT password (or set SENSEBUS_PASSWORD)', process.env.SENSEBUS_PASSWORD)
    .option('--base-topic <topic>', 'base topic', 'sense')
    .option('--ca <file>', 'PEM CA bundle that signs the broker certificate (mqtts://, wss://)')
    .option('--cert <file>', 'PEM client certificate, for brokers that map certificates to users')
    .option('--key <file>', 'PEM private key of --cert')
    .option('--insecure', 'do not verify the broker certificate (testing only)', false)
}

/**
 * A broker URL with its scheme. Without one mqtt.js guesses and fails later with a packet-parser error,
 * so `127.0.0.1:1883` is refused here with the likely fix.
 */
export function checkUrl(url: string): void {
  let parsed: URL | undefined
  try {
    parsed = new URL(url)
  } catch {
    parsed = undefined
  }
  if (!parsed || !SCHEMES.includes(parsed.protocol) || !parsed.hostname) {
    const guess = /^[\w.-]+(:\d+)?(\/.*)?$/.test(url) ? ` (did you mean mqtt://${url}?)` : ''
    throw usage(`--url ${url} is not a broker URL: use mqtt://, mqtts://, ws:// or wss://host:port${guess}`)
  }
}

function readPem(path: string, flag: string): Buffer {
  try {
    return readFileSync(path)
  } catch (err) {
    throw usage(`Cannot read ${flag} ${path}: ${(err as Error).message}`)
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

/** CONNACK return codes of MQTT 3.1.1 ([MQTT-3.2.2-3]), as mqtt.js reports them. */
const CONNACK: Record<number, string> = {
  1: 'the broker does not speak this MQTT version',
  2: 'the broker refused the client id',
  3: 'the broker is unavailable (too many connections?)',
  4: 'wrong user name or password',
  5: 'not authorized: give --username and --password (or SENSEBUS_PASSWORD)',
}

/** Why a connection failed, in words a user can act on; exit code CONNECT. */
export function connectError(url: string, err: unknown): CliError {
  const e = err as Error & { code?: string | number }
  let why = e.message
  if (typeof e.code === 'number' && CONNACK[e.code]) why = `refused: ${CONNACK[e.code]}`
  else if (e.code === 'ECONNREFUSED') why = 'nothing listens there (connection refused)'
  else if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') why = 'unknown host'
  else if (/Invalid header flag bits|Invalid (packet|protocol)|Unexpected server response|Parse error/i.test(why))
    why =
      'something answered, but not an MQTT broker: is this the HTTP port? (sensebus listens for MQTT on 1883 and ' +
      'MQTT over WebSocket on 9001 by default)'
  else if (/connack timeout|timed? ?out/i.test(why)) why = 'no answer to CONNECT (is this an MQTT port?)'
  return new CliError(`Cannot connect to ${url}: ${why}`, EXIT.CONNECT)
}

/**
 * A plain mqtt.js client. `reconnect` keeps it trying after a connection is lost (subscribe, like
 * mosquitto_sub); the first connection must succeed either way.
 */
export async function connectClient(flags: ConnectionFlags, opts: { reconnect?: boolean } = {}): Promise<MqttClient> {
  checkUrl(flags.url)
  const options = { ...auth(flags), reconnectPeriod: 0, connectTimeout: 10_000 }
  // mqtt.js and the bus load when a verb connects: they are most of the CLI's start-up time, and `--help`,
  // `config`, `token` and `topics` never need them.
  const [{ default: mqtt }, { disableNagle }] = await Promise.all([import('mqtt'), import('../broker/mqtt-bus.js')])
  let client: MqttClient
  try {
    client = await mqtt.connectAsync(flags.url, options)
  } catch (err) {
    throw connectError(flags.url, err)
  }
  if (opts.reconnect) client.options.reconnectPeriod = 1000
  disableNagle(client)
  return client
}

export async function connectBus(flags: ConnectionFlags, timeoutMs: number): Promise<MqttBus> {
  checkUrl(flags.url)
  const [{ MqttBus }, { silentLogger }] = await Promise.all([import('../broker/mqtt-bus.js'), import('../log.js')])
  try {
    return await MqttBus.connect(
      {
        url: flags.url,
        clientId: `${CLI_CLIENT_PREFIX}${randomUUID().slice(0, 12)}`,
        defaultTimeoutMs: timeoutMs,
        log: silentLogger(),
        connectOptions: { ...auth(flags), reconnectPeriod: 0 },
      },
      createTopics(flags.baseTopic),
    )
  } catch (err) {
    if (err instanceof CliError) throw err
    throw connectError(flags.url, err)
  }
}
