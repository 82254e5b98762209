import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifySecret } from '../../src/security/hash.js'
import { connect } from '../helpers/client.js'
import {
  createTestPki,
  PASSWORDS,
  securityOverrides,
  startSecureApp,
  TOKENS,
  type SecureApp,
  type TestPki,
} from './harness.js'
import { runCli, startServer as startProcess } from '../helpers/process.js'

describe('audit events and secrets', () => {
  let pki: TestPki
  let sb: SecureApp
  let overrides: Record<string, unknown>

  beforeAll(async () => {
    pki = await createTestPki()
    overrides = await securityOverrides({
      'security.audit.publish': true,
      'broker.mqtts': {
        enabled: true,
        port: 0,
        tls: { certFile: pki.paths.serverCert, keyFile: pki.paths.serverKey, caFile: pki.paths.ca },
        clientCertificates: 'request',
      },
    })
    sb = await startSecureApp({ overrides })
  })
  afterAll(async () => {
    await sb?.stop()
    await rm(pki.dir, { recursive: true, force: true })
  })

  it('publishes each audit record on <base>/event/audit as a CloudEvent, HTTP calls under the token name', async () => {
    const admin = await connect(sb.mqttUrl, { username: 'admin', password: PASSWORDS.admin })
    const events = await admin.collect('sense/event/audit')
    const etl = await connect(sb.mqttUrl, { username: 'etl', password: PASSWORDS.etl })
    await etl.request('util/ping', { transaction: 'audit-1' })
    await fetch(`${sb.httpUrl}/v4/butlerping`, { headers: { authorization: `Bearer ${TOKENS.etl}` } })
    await expect.poll(() => events.length).toBeGreaterThanOrEqual(2)
    const parsed = events.map((e) => JSON.parse(e.payload) as { data: Record<string, unknown> })
    expect(parsed[0]).toEqual({
      id: expect.any(String),
      time: expect.any(String),
      type: 'sense.audit',
      source: expect.stringMatching(/^sensebus\//),
      data: expect.objectContaining({
        capability: 'util/ping',
        transaction: 'audit-1',
        username: 'etl',
        roles: ['loadscript'],
        transport: 'mqtt',
        outcome: 'ok',
        durationMs: expect.any(Number),
      }),
    })
    expect(parsed.map((p) => p.data)).toContainEqual(
      expect.objectContaining({ capability: 'util/ping', username: 'etl-scripts', transport: 'http', outcome: 'ok' }),
    )
    await Promise.all([admin.end(), etl.end()])
  })

  it('never writes passwords, tokens, hashes or keys to the log, also for failed logins', async () => {
    for (const password of [PASSWORDS.etl, 'wrong-password-3c9f']) {
      await connect(sb.mqttUrl, { username: 'etl', password })
        .then((c) => c.end())
        .catch(() => undefined)
    }
    for (const token of [TOKENS.etl, 'sbt_wrong-token-9911'])
      await fetch(`${sb.httpUrl}/v4/butlerping`, { headers: { authorization: `Bearer ${token}` } })
    const text = sb.logText()
    expect(text).toContain('"area":"audit"')
    const users = overrides['security.users'] as Array<{ passwordHash?: string }>
    const tokens = overrides['security.tokens'] as Array<{ hash: string }>
    const secrets = [
      ...Object.values(PASSWORDS),
      'wrong-password-3c9f',
      ...Object.values(TOKENS),
      'sbt_wrong-token-9911',
      ...users.flatMap((u) => u.passwordHash ?? []),
      ...tokens.map((t) => t.hash),
      'PRIVATE KEY',
    ]
    expect(secrets.filter((s) => text.includes(s))).toEqual([])
  })

  it('redacts secrets in `sensebus config print`', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sensebus-print-'))
    const file = join(dir, 'sensebus.yaml')
    const doc: Record<string, unknown> = {}
    for (const [path, value] of Object.entries(structuredClone(overrides))) {
      const keys = path.split('.')
      let node = doc
      for (const k of keys.slice(0, -1)) node = (node[k] ??= {}) as Record<string, unknown>
      node[keys[keys.length - 1]!] = value
    }
    ;(doc.broker as Record<string, unknown>).password = 'external-broker-secret'
    ;(doc.broker as Record<string, Record<string, Record<string, unknown>>>).mqtts!.tls!.keyPassphrase =
      'key-passphrase-secret'
    await writeFile(file, stringify(doc))
    const run = await runCli(['config', 'print', '--config', file])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain('[redacted]')
    const users = overrides['security.users'] as Array<{ passwordHash?: string }>
    for (const secret of [
      'external-broker-secret',
      'key-passphrase-secret',
      ...users.flatMap((u) => u.passwordHash ?? []),
      ...(overrides['security.tokens'] as Array<{ hash: string }>).map((t) => t.hash),
    ]) {
      expect(run.stdout).not.toContain(secret)
    }
    expect(run.stdout).toContain('username: etl')
    await rm(dir, { recursive: true, force: true })
  })

  it('lets the CLI reach an mqtts listener with --ca and a password from the environment', async () => {
    const run = await runCli(
      ['request', 'util/ping', '{}', '--url', sb.url('mqtts'), '--ca', pki.paths.ca, '--username', 'etl'],
      { env: { SENSEBUS_PASSWORD: PASSWORDS.etl } },
    )
    expect(run.code, run.stderr).toBe(0)
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'ok' })
    const untrusted = await runCli(['request', 'util/ping', '{}', '--url', sb.url('mqtts'), '--username', 'etl'], {
      env: { SENSEBUS_PASSWORD: PASSWORDS.etl },
    })
    expect(untrusted.code).toBe(3)
    expect(untrusted.stderr).toContain(`Cannot connect to ${sb.url('mqtts')}`)
  })
})

describe('sensebus passwd and token', () => {
  it('hashes a password read from stdin, never echoing it', async () => {
    const run = await runCli(['passwd', '--stdin', '--cost', '1024'], { input: 'pa55 word\n' })
    expect(run.code, run.stderr).toBe(0)
    const hash = run.stdout.trim()
    expect(hash).toMatch(/^scrypt\$1024\$8\$1\$/)
    expect(await verifySecret('pa55 word', hash)).toBe(true)
    expect(run.stdout + run.stderr).not.toContain('pa55')
  })

  it('refuses an empty password and a bad cost', async () => {
    expect((await runCli(['passwd', '--stdin'], { input: '' })).code).toBe(1)
    const badCost = await runCli(['passwd', '--stdin', '--cost', '1000'], { input: 'x' })
    expect(badCost.code).toBe(2)
    expect(badCost.stderr).toContain('must be a power of two between 1024 and 1048576')
  })

  it('mints a token whose hash is what the config needs', async () => {
    const json = await runCli(['token', '--name', 'etl-scripts', '--role', 'loadscript', 'observer', '--json'])
    const minted = JSON.parse(json.stdout) as { name: string; token: string; hash: string; roles: string[] }
    expect(minted).toMatchObject({ name: 'etl-scripts', roles: ['loadscript', 'observer'] })
    expect(await verifySecret(minted.token, minted.hash)).toBe(true)
    const text = await runCli(['token', '--name', 'dash'])
    expect(text.stdout).toMatch(/sbt_\S+/)
    expect(text.stdout).toMatch(/tokens:\n\s+- name: dash\n\s+hash: sha256\$[0-9a-f]{64}\n\s+roles:\n\s+- loadscript/)
  })
})

describe('exposure at start-up', () => {
  it('refuses to listen beyond loopback with nobody able to log in, unless anonymous access is explicitly ' +
    'allowed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sensebus-exposed-'))
    const refused = await runCli([
      'start',
      '--host',
      '0.0.0.0',
      '--data-dir',
      dir,
      '--mqtt-port',
      '0',
      '--ws-port',
      '0',
      '--http-port',
      '0',
    ])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(
      /Refusing to start: sensebus would listen beyond this machine \(broker\.mqtt\.host: 0\.0\.0\.0.*allowAnonymous/,
    )
    const allowed = await startProcess(['--host', '0.0.0.0', '--data-dir', dir], {
      SENSEBUS_SECURITY__ALLOW_ANONYMOUS: 'true',
    })
    expect(allowed.stdout()).toMatch(/"level":40.*allowAnonymous is true/)
    allowed.child.kill('SIGTERM')
    expect(await allowed.exited).toBe(0)
    await rm(dir, { recursive: true, force: true })
  }, 90_000) // Two sensebus processes one after the other: slow on a loaded 2-core machine.
})
