import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { hashPassword } from '../../src/security/hash.js'
import { connect } from '../helpers/client.js'
import { startMosquitto } from '../helpers/mosquitto.js'
import { type RunResult, runCli, type ServerProcess, startServer } from '../helpers/process.js'
import { TEST_COST } from '../security/harness.js'

/** Every failure says something, in one line or a few, and never as a stack trace. */
function saysWhy(r: RunResult, pattern: RegExp): void {
  expect(r.stderr).toMatch(pattern)
  expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/)
}

describe('CLI exit codes and messages (against a running sensebus)', { timeout: 90_000 }, () => {
  let server: ServerProcess
  let dir: string
  let url: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sensebus-cli-exit-'))
    const config = {
      security: {
        users: [{ username: 'watcher', passwordHash: await hashPassword('watch-pw', TEST_COST), roles: ['observer'] }],
      },
    }
    await writeFile(join(dir, 'sensebus.yaml'), stringify(config))
    server = await startServer(['--config', join(dir, 'sensebus.yaml'), '--data-dir', join(dir, 'data')])
    url = server.mqttUrl
  }, 60_000)
  afterAll(async () => {
    server?.child.kill('SIGTERM')
    await server?.exited
    await rm(dir, { recursive: true, force: true })
  })

  it('publish to a topic with wildcards is a usage error (2), not a silent exit', async () => {
    const r = await runCli(['publish', 'a/+/b', 'x', '--url', url])
    expect(r.code).toBe(2)
    saysWhy(r, /Cannot publish to 'a\/\+\/b': a topic name has no \+ or # wildcards/)
  })

  it('publish the broker refuses (sensebus-owned tree) exits 1 and says why', async () => {
    const r = await runCli(['publish', 'sense/response/x', 'x', '--url', url])
    expect(r.code).toBe(1)
    saysWhy(r, /closed the connection instead of accepting the publish to 'sense\/response\/x': only sensebus/)
  })

  it('request with a wildcard capability is a usage error (2)', async () => {
    const r = await runCli(['request', 'kv/#', '{}', '--url', url])
    expect(r.code).toBe(2)
    saysWhy(r, /'kv\/#' is not a capability name/)
  })

  it('subscribe with an invalid filter is a usage error (2), without a stack trace', async () => {
    const r = await runCli(['subscribe', 'sense/#/x', '--url', url])
    expect(r.code).toBe(2)
    saysWhy(r, /'sense\/#\/x' is not a topic filter/)
  })

  it('a subscription the ACL refuses exits 1 with a message', async () => {
    const r = await runCli(['subscribe', 'private/#', '--url', url, '--username', 'watcher'], {
      env: { SENSEBUS_PASSWORD: 'watch-pw' },
    })
    expect(r.code).toBe(1)
    saysWhy(r, /The broker refused the subscription to 'private\/#'/)
  })

  it('a wrong password is a connect failure (3) that says so', async () => {
    const r = await runCli(['request', 'util/ping', '--url', url, '--username', 'watcher', '--password', 'nope'])
    expect(r.code).toBe(3)
    saysWhy(r, /Cannot connect to .*: refused: wrong user name or password/)
  })

  it.each([
    [['start', '--mqtt-port', 'abc'], /option '--mqtt-port <port>' argument 'abc' is invalid/],
    [['request', 'util/ping', '--timeout', 'abc'], /option '--timeout <ms>' argument 'abc' is invalid/],
    [['subscribe', 'a/#', '--count', '0'], /option '--count <n>' argument '0' is invalid. must be a whole number >= 1/],
    [['subscribe', 'a/#', '--count', 'abc'], /option '--count <n>' argument 'abc' is invalid/],
    [['subscribe', 'a/#', '--timeout', '-5'], /option '--timeout <ms>' argument '-5' is invalid/],
    [['publish', 'a', 'b', '--qos', '3'], /option '--qos <n>' argument '3' is invalid. must be one of 0, 1, 2/],
    [['request'], /missing required argument 'capability'/],
    [['request', 'util/ping', '--nope'], /unknown option '--nope'/],
  ])('%j is a usage error (2)', async (args, pattern) => {
    const r = await runCli(args)
    expect(r.code).toBe(2)
    saysWhy(r, pattern)
  })

  it('request reads the payload from an argument, from stdin (-) and from @file', async () => {
    const set = await runCli(['request', 'kv/set', '-', '--url', url], {
      input: '{"namespace":"pipe","key":"k","value":"from stdin"}\n',
    })
    expect(set.code).toBe(0)
    await writeFile(join(dir, 'get.json'), '{"namespace":"pipe","key":"k"}')
    const get = await runCli(['request', 'kv/get', `@${join(dir, 'get.json')}`, '--url', url])
    expect(get.code).toBe(0)
    expect(JSON.parse(get.stdout)).toMatchObject({ status: 'ok', data: { value: 'from stdin' } })
    const none = await runCli(['request', 'util/ping', '--url', url])
    expect(JSON.parse(none.stdout)).toMatchObject({ status: 'ok' })
  })

  it("request keeps the caller's transaction, a number as a number", async () => {
    const r = await runCli(['request', 'util/ping', '{"transaction":7}', '--url', url])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ transaction: 7, status: 'ok' })
  })

  it('a bad payload names the JSON parse error and where it came from', async () => {
    const arg = await runCli(['request', 'kv/get', '{"namespace": x}', '--url', url])
    expect(arg.code).toBe(2)
    saysWhy(arg, /The request in the argument is not valid JSON: Unexpected token 'x'/)
    const stdin = await runCli(['request', 'kv/get', '-', '--url', url], { input: '{oops' })
    expect(stdin.code).toBe(2)
    saysWhy(stdin, /The request in stdin is not valid JSON/)
    const missing = await runCli(['request', 'kv/get', `@${join(dir, 'absent.json')}`, '--url', url])
    expect(missing.code).toBe(2)
    saysWhy(missing, /Cannot read the request from .*absent.json: ENOENT/)
  })

  it('--url without a scheme suggests one; a URL at the HTTP port says it is not MQTT', async () => {
    const bare = await runCli(['request', 'util/ping', '--url', `127.0.0.1:${server.endpoints.mqtt?.port}`])
    expect(bare.code).toBe(2)
    saysWhy(bare, /is not a broker URL: .*\(did you mean mqtt:\/\/127\.0\.0\.1:\d+\?\)/)
    const http = await runCli(['request', 'util/ping', '--url', `mqtt://127.0.0.1:${server.endpoints.http?.port}`])
    expect(http.code).toBe(3)
    saysWhy(http, /something answered, but not an MQTT broker: is this the HTTP port\?/)
  })

  it('subscribe --json prints a JSON payload as JSON, anything else as a string', async () => {
    expect((await runCli(['publish', 'json/obj', '{"a":[1,2]}', '--retain', '--url', url])).code).toBe(0)
    expect((await runCli(['publish', 'json/text', 'plain words', '--retain', '--url', url])).code).toBe(0)
    const r = await runCli(['subscribe', 'json/#', '--json', '--count', '2', '--url', url])
    expect(r.code).toBe(0)
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { topic: string })
      .sort((a, b) => a.topic.localeCompare(b.topic))
    expect(lines).toEqual([
      { topic: 'json/obj', payload: { a: [1, 2] }, retain: true },
      { topic: 'json/text', payload: 'plain words', retain: true },
    ])
  })
})

describe('CLI against a broker without sensebus', { timeout: 90_000 }, () => {
  it('says no sensebus is there (3) instead of a made-up TIMEOUT', async () => {
    const mosquitto = await startMosquitto()
    try {
      const r = await runCli(['request', 'util/ping', '--timeout', '500', '--url', mosquitto.url])
      expect(r.code).toBe(3)
      expect(r.stdout).toBe('')
      saysWhy(r, /the broker is up, but no sensebus is on it \(nothing retained on sense\/bridge\/state/)
    } finally {
      await mosquitto.stop()
    }
  })

  it('subscribe keeps reconnecting when the broker goes away, and goes on printing', async () => {
    const mosquitto = await startMosquitto()
    const { spawn } = await import('node:child_process')
    const { CLI } = await import('../helpers/process.js')
    const sub = spawn(process.execPath, [CLI, 'subscribe', 'beat/#', '--url', mosquitto.url], { stdio: 'pipe' })
    let out = ''
    let err = ''
    sub.stdout.on('data', (d: Buffer) => (out += d.toString()))
    sub.stderr.on('data', (d: Buffer) => (err += d.toString()))
    const exited = new Promise((r) => sub.once('exit', r))
    try {
      // The subscriber under test is the CLI process; the publisher is an in-process client, so each retry
      // costs a publish, not another CLI process starting.
      const publishUntilSeen = async (payload: string) => {
        for (let i = 0; i < 60 && !out.includes(payload); i++) {
          const pub = await connect(mosquitto.url).catch(() => undefined)
          await pub?.mqtt.publishAsync('beat/1', payload)
          await pub?.end()
          await new Promise((r) => setTimeout(r, 250))
        }
        expect(out).toContain(`beat/1 ${payload}`)
      }
      await publishUntilSeen('before')
      await mosquitto.restart()
      await publishUntilSeen('after')
      expect(err).toContain(`Connection to ${mosquitto.url} lost; reconnecting`)
      expect(err).toContain(`Reconnected to ${mosquitto.url}`)
      expect(sub.exitCode).toBeNull()
    } finally {
      sub.kill('SIGTERM')
      await exited
      await mosquitto.stop()
    }
  })
})
