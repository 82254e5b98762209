import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { runCli, startServer } from '../helpers/process.js'
import { createTestPki } from '../security/harness.js'
import { tempCertDir } from '../sim/sim-harness.js'

const README = new URL('../../README.md', import.meta.url)

/** The README's security example, with its certificate paths pointed at a fresh test PKI and free ports. */
async function readmeSecurityExample(): Promise<string> {
  const text = await readFile(README, 'utf8')
  const block = /A worked example[\s\S]*?```yaml\n([\s\S]*?)```/.exec(text)?.[1]
  if (!block) throw new Error('the README has no security example')
  const pki = await createTestPki()
  return block
    .replaceAll('/etc/sensebus/server_key.pem', pki.paths.serverKey)
    .replaceAll('/etc/sensebus/server.pem', pki.paths.serverCert)
    .replaceAll('/etc/sensebus/ca.pem', pki.paths.ca)
    .replace(/port: (8883|9443|8443)\b/g, 'port: 0')
}

/** The problem lines of a message, without its heading. */
const problems = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith('  - '))
    .sort()

describe('config check refuses exactly what start refuses', { timeout: 90_000 }, () => {
  const dir = tempCertDir('cliconf-check')

  it("passes the README's own security example, and start starts with it", async () => {
    const file = join(dir, 'readme-security.yaml')
    await writeFile(file, await readmeSecurityExample())
    const check = await runCli(['config', 'check', file])
    expect(check.stderr).toBe('')
    expect(check.code).toBe(0)
    const server = await startServer(['--config', file, '--data-dir', join(dir, 'readme-data')])
    expect(server.endpoints.mqtt?.port).toBeGreaterThan(0)
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
  })

  it.each([
    ['a password hash that is not one', { users: [{ username: 'a', passwordHash: 'scrypt$1$x', roles: ['admin'] }] }],
    ['a token hash that is not one', { tokens: [{ name: 't', hash: 'sha256$abc', roles: ['admin'] }] }],
    ['an unknown role', { users: [{ username: 'a', certificateCN: 'a', roles: ['admin', 'nope'] }] }],
  ])(
    '%s: check and start both exit 1 with the same problems',
    async (_what, security) => {
      const file = join(dir, `bad-${Math.random().toString(36).slice(2)}.yaml`)
      await writeFile(file, stringify({ security }))
      const check = await runCli(['config', 'check', file])
      const start = await runCli(['start', '--config', file, '--mqtt-port', '0', '--ws-port', '0', '--http-port', '0'])
      expect(check.code).toBe(1)
      expect(start.code).toBe(1)
      expect(problems(check.stderr).length).toBeGreaterThan(0)
      expect(problems(check.stderr)).toEqual(problems(start.stderr))
    },
    90_000,
  )

  it('token refuses a role nobody defined, and accepts one the config defines', async () => {
    const unknown = await runCli(['token', '--role', 'reporting'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain("Unknown role 'reporting' (known: admin, loadscript, observer; roles defined")
    const file = join(dir, 'roles.yaml')
    await writeFile(file, stringify({ security: { roles: { reporting: { capabilities: ['kv/get'] } } } }))
    const known = await runCli(['token', '--role', 'reporting', '--config', file, '--json'])
    expect(known.code).toBe(0)
    expect(JSON.parse(known.stdout)).toMatchObject({ roles: ['reporting'] })
  })
})

describe('config from the environment', { timeout: 90_000 }, () => {
  it('start runs with the client variables set (SENSEBUS_URL is not a config key)', async () => {
    const server = await startServer(['--data-dir', join(tempCertDir('cliconf-env'), 'data')], {
      SENSEBUS_URL: 'mqtt://127.0.0.1:1',
      SENSEBUS_USERNAME: 'someone',
      SENSEBUS_PASSWORD: 'secret',
    })
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
  })

  it('start names the variable behind a bad value', async () => {
    const r = await runCli(['start'], { env: { SENSEBUS_HTTP__PORT: 'eighty' } })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('http.port: must be integer (from SENSEBUS_HTTP__PORT)')
  })

  it('config print redacts a password inside a URL', async () => {
    const r = await runCli(['config', 'print'], {
      env: { SENSEBUS_BROKER__URL: 'mqtt://sensebus:url-secret-7@mosquitto.example:1883' },
    })
    expect(r.code).toBe(0)
    expect(r.stdout).not.toContain('url-secret-7')
    expect(r.stdout).toContain('url: mqtt://sensebus:[redacted]@mosquitto.example:1883')
  })
})
