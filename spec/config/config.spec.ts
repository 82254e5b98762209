import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { modules } from '../../src/capabilities/index.js'
import { ConfigError, loadConfig, redactConfig } from '../../src/config/load.js'

async function file(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sensebus-config-'))
  const path = join(dir, 'sensebus.yaml')
  await writeFile(path, text)
  return path
}

describe('loadConfig', () => {
  it('works with no file at all, on loopback defaults', () => {
    const c = loadConfig(modules)
    expect(c.broker.mqtt).toEqual({ enabled: true, host: '127.0.0.1', port: 1883 })
    expect(c.broker.ws).toEqual({ enabled: true, host: '127.0.0.1', port: 9001, origins: [] })
    expect(c.http.host).toBe('127.0.0.1')
    expect(c.dataDir).toBe('./data')
    expect(c.baseTopic).toBe('sense')
    expect(c.capabilities.kv).toMatchObject({ maxKeysPerNamespace: 1000, mirror: true, maxValueBytes: 1048576 })
    expect(c.store).toEqual({ backend: 'level', sync: true, cacheBytes: 64 * 1024 * 1024 })
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
        '/http/port: must be integer',
        '/http/colour: is not a known property',
        '/broker/mqtt/port: must be <= 65535',
        '/nope: is not a known property',
        '/capabilities/kv/maxKeysPerNamespace: must be >= 1',
      ]),
    )
    expect(error!.message).toContain(path)
  })

  it('reports a YAML syntax error with its line', async () => {
    const path = await file('http:\n  port: [1,\n')
    expect(() => loadConfig(modules, { file: path })).toThrow(/not valid YAML \(line \d+\)/)
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
