import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import mqtt from 'mqtt'
import { startApp, type App } from '../../src/app.js'
import { modules as registry } from '../../src/capabilities/index.js'
import { loadConfig } from '../../src/config/load.js'
import type { Config } from '../../src/config/schema.js'
import type { CapabilityModule } from '../../src/core/capability.js'
import { createLogger } from '../../src/log.js'
import { hashPassword, sha256Hash } from '../../src/security/hash.js'
import { createCa, createLeaf, type PemPair } from '../../src/sim/certs/generate.js'

/** Cheap scrypt cost for tests: the format and checks are the same, the work factor is not. */
export const TEST_COST = { N: 1024, r: 8, p: 1 }

export const PASSWORDS = {
  admin: 'admin-pw-7f3a',
  etl: 'etl-pw-c41d',
  watcher: 'watch-pw-99e0',
  reader: 'read-pw-0b1e',
}
export const TOKENS = {
  etl: 'sbt_test-etl-token-1f0c2b',
  watcher: 'sbt_test-watcher-token-88aa',
  admin: 'sbt_test-admin-token-55c1',
}

/** Users for each built-in role plus a custom read-only KV role, and a token per role. */
export async function securityOverrides(extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  return {
    'security.users': [
      { username: 'admin', passwordHash: await hashPassword(PASSWORDS.admin, TEST_COST), roles: ['admin'] },
      { username: 'etl', passwordHash: await hashPassword(PASSWORDS.etl, TEST_COST), roles: ['loadscript'] },
      { username: 'watcher', passwordHash: await hashPassword(PASSWORDS.watcher, TEST_COST), roles: ['observer'] },
      { username: 'reader', passwordHash: await hashPassword(PASSWORDS.reader, TEST_COST), roles: ['kv-reader'] },
      { username: 'cert-user', certificateCN: 'etl-client', roles: ['kv-reader'] },
    ],
    'security.roles': {
      'kv-reader': {
        capabilities: ['kv/get', 'kv/exists', 'util/ping'],
        publish: ['apps/{base}/#'],
        subscribe: ['apps/#'],
      },
    },
    'security.tokens': [
      { name: 'etl-scripts', hash: sha256Hash(TOKENS.etl), roles: ['loadscript'] },
      { name: 'dashboard', hash: sha256Hash(TOKENS.watcher), roles: ['observer'] },
      { name: 'ops', hash: sha256Hash(TOKENS.admin), roles: ['admin'] },
    ],
    'security.allowAnonymous': false,
    ...extra,
  }
}

export interface SecureApp {
  app: App
  config: Config
  dataDir: string
  mqttUrl: string
  httpUrl: string
  url(kind: 'mqtt' | 'ws' | 'mqtts' | 'wss' | 'http'): string
  /** Every log line so far, parsed. */
  logs: Array<Record<string, unknown>>
  /** The raw log text, for grepping secrets. */
  logText(): string
  stop(): Promise<void>
}

/** sensebus on ephemeral ports with its log captured (JSON lines), at debug level. */
export async function startSecureApp(
  opts: { overrides?: Record<string, unknown>; modules?: CapabilityModule[]; dataDir?: string } = {},
): Promise<SecureApp> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'sensebus-sec-')))
  const modules = opts.modules ?? registry
  const config = loadConfig(modules, {
    overrides: {
      dataDir,
      'broker.mqtt.port': 0,
      'broker.ws.port': 0,
      'broker.mqtts.port': 0,
      'broker.wss.port': 0,
      'http.port': 0,
      'log.level': 'debug',
      ...opts.overrides,
    },
  })
  const sink = new PassThrough()
  let text = ''
  const logs: Array<Record<string, unknown>> = []
  sink.on('data', (d: Buffer) => {
    text += d.toString()
    for (const line of d.toString().split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>)
  })
  const app = await startApp({ config, log: createLogger({ level: 'debug', destination: sink }), modules })
  const e = app.endpoints
  const url = (kind: 'mqtt' | 'ws' | 'mqtts' | 'wss' | 'http') => {
    const port = e[kind]?.port
    if (port === undefined) throw new Error(`no ${kind} listener`)
    const scheme = kind === 'http' ? (e.http?.tls ? 'https' : 'http') : kind
    return `${scheme}://${kind === 'mqtts' || kind === 'wss' || e.http?.tls ? 'localhost' : '127.0.0.1'}:${port}`
  }
  return {
    app,
    config,
    dataDir,
    mqttUrl: e.mqtt ? url('mqtt') : '',
    httpUrl: e.http ? url('http') : '',
    url,
    logs,
    logText: () => text,
    async stop() {
      await app.stop()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}

export interface TestPki {
  dir: string
  ca: string
  paths: {
    ca: string
    serverCert: string
    serverKey: string
    clientCert: string
    clientKey: string
    rogueCert: string
    rogueKey: string
  }
  client: PemPair
  rogue: PemPair
}

/** A CA, a server certificate for localhost, a client certificate with CN etl-client, and one from another CA. */
export async function createTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'sensebus-pki-'))
  const ca = createCa('sensebus-test-CA')
  const server = createLeaf(ca, { commonName: 'localhost', altNames: ['localhost', '127.0.0.1'], usage: 'server' })
  const client = createLeaf(ca, { commonName: 'etl-client', usage: 'client' })
  const rogue = createLeaf(createCa('rogue-CA'), { commonName: 'etl-client', usage: 'client' })
  const files = {
    ca: ca.cert,
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
    rogueCert: rogue.cert,
    rogueKey: rogue.key,
  }
  const paths = Object.fromEntries(Object.keys(files).map((k) => [k, join(dir, `${k}.pem`)])) as TestPki['paths']
  await Promise.all(Object.entries(files).map(([k, pem]) => writeFile(paths[k as keyof typeof files], pem)))
  return { dir, ca: ca.cert, paths, client, rogue }
}

/** The CONNACK refusal code a connection with these options gets; undefined when it is accepted. */
export async function refusal(url: string, opts: mqtt.IClientOptions): Promise<number | undefined> {
  try {
    const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 3000, ...opts })
    await c.endAsync()
    return undefined
  } catch (err) {
    return (err as { code?: number }).code
  }
}
