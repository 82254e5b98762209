import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect } from '../helpers/client.js'
import { startMosquitto } from '../helpers/mosquitto.js'
import { runCli, startServer, type ServerProcess } from '../helpers/process.js'

describe('sensebus CLI against a running sensebus process', { timeout: 90_000 }, () => {
  let server: ServerProcess
  let dataDir: string
  let url: string

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sensebus-cli-'))
    server = await startServer(['--data-dir', dataDir])
    url = server.mqttUrl
  }, 60_000)
  afterAll(async () => {
    server.child.kill('SIGTERM')
    await server.exited
    await rm(dataDir, { recursive: true, force: true })
  })

  it('request prints the ok envelope and exits 0', async () => {
    const set = await runCli(['request', 'kv/set', '{"namespace":"cli","key":"k","value":"v1"}', '--url', url])
    expect(set.code).toBe(0)
    expect(JSON.parse(set.stdout)).toMatchObject({ status: 'ok', data: { namespace: 'cli', key: 'k', value: 'v1' } })
  })

  it('request exits 1 on an error envelope and prints it', async () => {
    const r = await runCli(['request', 'kv/get', '{"namespace":"cli","key":"missing"}', '--url', url])
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'error', error: { code: 'NOT_FOUND' } })
  })

  it('request exits 2 on JSON that is not an object, and 3 when the broker is unreachable', async () => {
    const notObject = await runCli(['request', 'kv/get', '[1]', '--url', url])
    expect(notObject.code).toBe(2)
    expect(notObject.stderr).toContain('must be a JSON object, not an array')
    const r = await runCli(['request', 'util/ping', '{}', '--url', 'mqtt://127.0.0.1:1'])
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/Cannot connect to mqtt:\/\/127.0.0.1:1: nothing listens there/)
  })

  it('publish and subscribe move messages, retained included', async () => {
    const pub = await runCli(['publish', 'cli/retained', 'hello', '--retain', '--url', url])
    expect(pub.code).toBe(0)
    const sub = await runCli(['subscribe', 'cli/#', '--count', '1', '--url', url])
    expect(sub.code).toBe(0)
    expect(sub.stdout).toBe('cli/retained hello\n')
  })

  it('subscribe --timeout exits 4 when nothing arrives', async () => {
    const sub = await runCli(['subscribe', 'nothing/here', '--count', '1', '--timeout', '300', '--url', url])
    expect(sub.code).toBe(4)
  })

  it('mosquitto_pub and mosquitto_sub work against it out of the box', async () => {
    const port = String(server.endpoints.mqtt!.port)
    const sub = spawn('mosquitto_sub', ['-p', port, '-t', 'sense/response/util/ping', '-C', '1', '-W', '10'])
    let out = ''
    sub.stdout.on('data', (d: Buffer) => (out += d.toString()))
    const subExit = new Promise((r) => sub.once('exit', r))
    let subDone = false
    void subExit.then(() => (subDone = true))
    // mosquitto_sub cannot say when its subscription is active: publish until it has caught an answer.
    for (let i = 0; i < 20 && !subDone; i++) {
      const pub = spawn('mosquitto_pub', [
        '-p',
        port,
        '-t',
        'sense/request/util/ping',
        '-m',
        '{"transaction":"from-mosquitto"}',
        '-q',
        '1',
      ])
      expect(await new Promise((r) => pub.once('exit', r))).toBe(0)
      await Promise.race([subExit, new Promise((r) => setTimeout(r, 250))])
    }
    expect(await subExit).toBe(0)
    expect(JSON.parse(out)).toMatchObject({ transaction: 'from-mosquitto', status: 'ok' })
  })

  it('answers Butler routes over HTTP', async () => {
    const res = await fetch(`${server.httpUrl}/v4/keyvalues/cli?key=k`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ namespace: 'cli', key: 'k', value: 'v1' })
  })
})

describe('sensebus CLI without a server', { timeout: 90_000 }, () => {
  it('topics prints the catalogue', async () => {
    const r = await runCli(['topics'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('`sense/request/kv/set`')
  })

  it('config check lists every problem and exits 1; accepts a good file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sensebus-cfg-'))
    await writeFile(join(dir, 'bad.yaml'), 'http:\n  port: -1\nwhat: 1\n')
    await writeFile(join(dir, 'good.yaml'), 'http:\n  port: 8085\n')
    const bad = await runCli(['config', 'check', join(dir, 'bad.yaml')])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('http.port: must be >= 0')
    expect(bad.stderr).toContain('what: is not a known property')
    const good = await runCli(['config', 'check', join(dir, 'good.yaml')])
    expect(good.code).toBe(0)
  })

  it('config print shows the effective config with secrets redacted', async () => {
    const r = await runCli(['config', 'print'], {
      env: { SENSEBUS_BROKER__PASSWORD: 'hunter2-secret', SENSEBUS_HTTP__PORT: '8099' },
    })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('port: 8099')
    expect(r.stdout).not.toContain('hunter2-secret')
    expect(r.stdout).toContain('[redacted]')
  })

  it('start refuses a bad config file with a clear message and a non-zero exit', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sensebus-cfg-'))
    await writeFile(join(dir, 'bad.yaml'), 'broker:\n  mqtt:\n    port: 99999\n')
    const r = await runCli(['start', '--config', join(dir, 'bad.yaml')])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('broker.mqtt.port: must be <= 65535')
  })

  it.each([
    'start',
    'request',
    'publish',
    'subscribe',
    'topics',
    'config',
    'config check',
    'config print',
    'passwd',
    'token',
    'demo',
    'sim',
  ])('%s --help explains the verb with an example', async (verb) => {
    const r = await runCli([...verb.split(' '), '--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/Usage: sensebus/)
    if (verb !== 'config') expect(r.stdout).toMatch(/Example/i)
  })
})

describe('sensebus process lifecycle', { timeout: 90_000 }, () => {
  it('shuts down on SIGTERM with exit 0 and a retained offline state', async () => {
    const mosquitto = await startMosquitto()
    const dataDir = await mkdtemp(join(tmpdir(), 'sensebus-life-'))
    const server = await startServer(['--data-dir', dataDir], { SENSEBUS_BROKER__URL: mosquitto.url })
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    const c = await connect(mosquitto.url)
    const states = await c.collect('sense/bridge/state')
    await expect.poll(() => states.map((s) => JSON.parse(s.payload).state)).toEqual(['offline'])
    await c.end()
    await mosquitto.stop()
  })

  it('leaves offline behind as its last will when killed on an external broker', async () => {
    const mosquitto = await startMosquitto()
    const dataDir = await mkdtemp(join(tmpdir(), 'sensebus-life-'))
    const server = await startServer(['--data-dir', dataDir], { SENSEBUS_BROKER__URL: mosquitto.url })
    const c = await connect(mosquitto.url)
    const states = await c.collect('sense/bridge/state')
    await expect.poll(() => states.map((s) => JSON.parse(s.payload).state)).toEqual(['online'])
    server.child.kill('SIGKILL')
    await server.exited
    await expect
      .poll(() => states.map((s) => JSON.parse(s.payload).state), { timeout: 5000 })
      .toEqual(['online', 'offline'])
    await c.end()
    await mosquitto.stop()
  })
})
