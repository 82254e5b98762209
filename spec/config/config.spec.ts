import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { modules } from '../../src/capabilities/index.js'
import { ConfigError, type ConfigSources, loadConfig, redactConfig } from '../../src/config/load.js'

async function file(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sensebus-config-'))
  const path = join(dir, 'sensebus.yaml')
  await writeFile(path, text)
  return path
}

function thrown(fn: () => unknown): ConfigError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return err as ConfigError
  }
  throw new Error('expected a ConfigError')
}

const problemsOf = (sources: ConfigSources) => thrown(() => loadConfig(modules, sources)).problems

describe('loadConfig', () => {
  it('works with no file at all, on loopback defaults', () => {
    const c = loadConfig(modules)
    expect(c.broker.mqtt).toEqual({ enabled: true, host: '127.0.0.1', port: 1883 })
    expect(c.broker.ws).toEqual({ enabled: true, host: '127.0.0.1', port: 9001, origins: [] })
    expect(c.http.host).toBe('127.0.0.1')
    expect(c.dataDir).toBe('./data')
    expect(c.baseTopic).toBe('sense')
    expect(c.capabilities.kv).toMatchObject({ maxKeysPerNamespace: 1000, mirror: true, maxValueBytes: 1048576 })
    expect(c.store).toMatchObject({ backend: 'level', sync: true, cacheBytes: 64 * 1024 * 1024 })
    expect(Object.isFrozen(c.http)).toBe(true)
  })

  it('lists every problem as path: message, unknown keys included', async () => {
    const path = await file(
      'http:\n  port: "eighty"\n  colour: blue\nbroker:\n  mqtt: { port: 70000 }\nnope: 1\ncapabilities:\n  kv: { ' +
        'maxKeysPerNamespace: 0 }\n',
    )
    let error: ConfigError | undefined
    try {
      loadConfig(modules, { file: path })
    } catch (err) {
      error = err as ConfigError
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect(error!.problems).toEqual(
      expect.arrayContaining([
        'http.port: must be integer',
        'http.colour: is not a known property',
        'broker.mqtt.port: must be <= 65535',
        'nope: is not a known property',
        'capabilities.kv.maxKeysPerNamespace: must be >= 1',
      ]),
    )
    expect(error!.message).toContain(path)
  })

  it('names array items the way they are written: security.users[1].roles', () => {
    const users = [
      { username: 'a', certificateCN: 'a', roles: ['admin'] },
      { username: 'b', certificateCN: 'b', roles: [] },
    ]
    expect(problemsOf({ overrides: { 'security.users': users } })).toEqual([
      'security.users[1].roles: must NOT have fewer than 1 items (from a command-line flag)',
    ])
  })

  it('lists the allowed values of an enum', () => {
    expect(problemsOf({ overrides: { 'log.level': 'loud' } })).toEqual([
      'log.level: must be one of "fatal", "error", "warn", "info", "debug", "trace", "silent" ' +
        '(from a command-line flag)',
    ])
  })

  it('shows every YAML error with its line, column and a caret under it', async () => {
    const path = await file('http:\n  port: 1\n  port: 2\nlog:\n\tlevel: info\n')
    const error = thrown(() => loadConfig(modules, { file: path }))
    expect(error.message).toContain(`Config file ${path} is not valid YAML`)
    expect(error.problems).toHaveLength(2)
    expect(error.problems[0]).toContain('line 3, column 3: Map keys must be unique')
    expect(error.problems[0]).toContain('        2 |   port: 1\n      > 3 |   port: 2\n          |   ^')
    expect(error.problems[1]).toMatch(/^line 5, column 1: Tabs are not allowed as indentation/)
    expect(error.problems[1]).toMatch(/> 5 \| {2}level: info\n +\| \^/)
  })

  it('says which environment variable or flag a bad value came from', async () => {
    const path = await file('http:\n  port: 8080\n')
    const problems = problemsOf({
      file: path,
      env: { SENSEBUS_HTTP__PORT: '99999', SENSEBUS_BUS__MAX_IN_FLIGHT: 'many' },
      overrides: { 'broker.mqtt.port': -1 },
      flagNames: { 'broker.mqtt.port': '--mqtt-port' },
    })
    expect(problems).toEqual(
      expect.arrayContaining([
        'http.port: must be <= 65535 (from SENSEBUS_HTTP__PORT)',
        'bus.maxInFlight: must be integer (from SENSEBUS_BUS__MAX_IN_FLIGHT)',
        'broker.mqtt.port: must be >= 0 (from --mqtt-port)',
      ]),
    )
  })

  it('leaves the client variables (SENSEBUS_URL, _USERNAME, _PASSWORD) to the client verbs', () => {
    const c = loadConfig(modules, {
      env: {
        SENSEBUS_URL: 'mqtt://127.0.0.1:1883',
        SENSEBUS_USERNAME: 'etl',
        SENSEBUS_PASSWORD: 'pw',
        SENSEBUS_DATA_DIR: '/var/lib/sensebus',
        SENSEBUS_BASE_TOPIC: 'qs',
      },
    })
    expect(c.dataDir).toBe('/var/lib/sensebus')
    expect(c.baseTopic).toBe('qs')
    expect(c.broker.url).toBeUndefined()
  })

  it('reports a missing file clearly', () => {
    expect(() => loadConfig(modules, { file: '/nonexistent/sensebus.yaml' })).toThrow(
      /Cannot read config file \/nonexistent\/sensebus.yaml/,
    )
  })

  it('applies file, then SENSEBUS_* environment, then flags', async () => {
    const path = await file('http:\n  port: 8081\nlog:\n  level: warn\nbus:\n  maxInFlight: 10\n')
    const c = loadConfig(modules, {
      file: path,
      env: {
        SENSEBUS_HTTP__PORT: '8082',
        SENSEBUS_BUS__REQUEST_TIMEOUT_MS: '1234',
        SENSEBUS_CAPABILITIES__DISABLED: '[kv/*]',
        OTHER: 'x',
      },
      overrides: { 'http.port': 0 },
    })
    expect(c.http.port).toBe(0)
    expect(c.bus.requestTimeoutMs).toBe(1234)
    expect(c.bus.maxInFlight).toBe(10)
    expect(c.log.level).toBe('warn')
    expect(c.capabilities.disabled).toEqual(['kv/*'])
  })

  it('redacts the password inside a URL, wherever the URL sits', () => {
    const out = redactConfig({
      broker: { url: 'mqtt://sensebus:s3cret-pw@mosquitto.example:1883' },
      other: ['wss://u:pw2@h/x', 'https://host/no-credentials', 'mqtt://only-user@host'],
    })
    expect(JSON.stringify(out)).not.toMatch(/s3cret-pw|pw2/)
    expect(out).toEqual({
      broker: { url: 'mqtt://sensebus:[redacted]@mosquitto.example:1883' },
      other: ['wss://u:[redacted]@h/x', 'https://host/no-credentials', 'mqtt://only-user@host'],
    })
  })

  it('takes the redis store backend, checks its URL, and redacts the password in it for printing', () => {
    const c = loadConfig(modules, {
      overrides: { 'store.backend': 'redis', 'store.redis.url': 'redis://:t0p-secret@redis.example:6379/2' },
    })
    expect(c.store).toMatchObject({ backend: 'redis', redis: { keyPrefix: 'sensebus:', expiryPollMs: 500 } })
    const printed = JSON.stringify(redactConfig(c))
    expect(printed).not.toContain('t0p-secret')
    expect(printed).toContain('redis://:[redacted]@redis.example:6379/2')
    expect(() => loadConfig(modules, { overrides: { 'store.redis.url': 'http://redis.example' } })).toThrow(
      /store\.redis\.url/,
    )
    expect(() => loadConfig(modules, { overrides: { 'store.backend': 'mongo' } })).toThrow(/store\.backend/)
  })

  it('redacts secrets for printing', () => {
    const out = redactConfig({
      broker: { url: 'mqtt://x', password: 'hunter2' },
      users: [{ name: 'a', passwordHash: 'scrypt$...' }],
      http: { port: 1 },
    })
    expect(JSON.stringify(out)).not.toMatch(/hunter2|scrypt/)
    expect(out).toMatchObject({ broker: { url: 'mqtt://x', password: '[redacted]' }, http: { port: 1 } })
  })
})
