import { describe, expect, it } from 'vitest'
import { modules } from '../../src/capabilities/index.js'
import { loadConfig } from '../../src/config/load.js'
import { allCapabilities, registryGrants } from '../../src/core/registry.js'
import { createTopics } from '../../src/core/topics.js'
import { silentLogger } from '../../src/log.js'
import { decideAnonymous, isLoopback } from '../../src/security/exposure.js'
import { generateToken, hashPassword, isSupportedHash, sha256Hash, verifySecret } from '../../src/security/hash.js'
import { capabilityMatches, filterCovers } from '../../src/security/patterns.js'
import { buildRoleTable, grantsFactory } from '../../src/security/roles.js'
import { TEST_COST } from './harness.js'

describe('secret hashing', () => {
  it('stores passwords as salted, self-describing scrypt strings and checks them', async () => {
    const a = await hashPassword('correct horse', TEST_COST)
    const b = await hashPassword('correct horse', TEST_COST)
    expect(a).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/)
    expect(a).not.toBe(b)
    expect(await verifySecret('correct horse', a)).toBe(true)
    expect(await verifySecret('correct horse ', a)).toBe(false)
    expect(await verifySecret('', a)).toBe(false)
  })

  it('refuses malformed hashes and absurd costs instead of throwing', async () => {
    for (const bad of [
      '',
      'scrypt$',
      'scrypt$1000$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==',
      'scrypt$2097152$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==',
      'md5$abc',
      'sha256$xyz',
    ]) {
      expect(isSupportedHash(bad)).toBe(false)
      expect(await verifySecret('x', bad)).toBe(false)
    }
  })

  it('mints random tokens whose sha256 hash verifies', async () => {
    const one = generateToken()
    const two = generateToken()
    expect(one.token).toMatch(/^sbt_[A-Za-z0-9_-]{43}$/)
    expect(one.token).not.toBe(two.token)
    expect(one.hash).toBe(sha256Hash(one.token))
    expect(await verifySecret(one.token, one.hash)).toBe(true)
    expect(await verifySecret(two.token, one.hash)).toBe(false)
  })
})

describe('patterns', () => {
  it.each([
    ['*', 'kv/set', true],
    ['kv/*', 'kv/set', true],
    ['kv/*', 'kvx/set', false],
    ['kv/*', 'kv/a/b', false],
    ['task/start', 'task/start', true],
    ['task/start', 'task/stop', false],
  ])('capability pattern %s matches %s: %s', (pattern, name, expected) => {
    expect(capabilityMatches(pattern, name)).toBe(expected)
  })

  it.each([
    ['#', 'a/b', true],
    ['#', '$SYS/x', false],
    ['$SYS/#', '$SYS/broker/uptime', true],
    ['sense/event/#', 'sense/event/#', true],
    ['sense/event/#', 'sense/event', true],
    ['sense/event/#', 'sense/#', false],
    ['sense/event/#', 'sense/+/x', false],
    ['sense/response/kv/+', 'sense/response/kv/get', true],
    ['sense/response/kv/+', 'sense/response/kv/#', false],
    ['sense/response/kv/+', 'sense/response/kv/+', true],
    ['a/+/c', 'a/b/c', true],
    ['a/+/c', 'a/b/c/d', false],
    ['a/b', 'a/+', false],
  ])('filter pattern %s covers %s: %s', (pattern, filter, expected) => {
    expect(filterCovers(pattern, filter)).toBe(expected)
  })
})

describe('roles', () => {
  const topics = createTopics('sense')
  // What the registry grants, plus two capabilities loadscript must have once they exist.
  const registry = registryGrants(allCapabilities(modules))
  const grants = { ...registry, loadscript: [...registry.loadscript, 'task/start', 'app/reload'] }
  const grantsOf = grantsFactory(
    buildRoleTable({ ops: { capabilities: ['util/ping'], subscribe: ['{base}/ops/#'] } }, topics, grants),
    topics,
  )

  it('gives loadscript KV, utilities and files but not other areas, and the answers of what it may call', () => {
    const g = grantsOf(['loadscript'])
    expect(
      ['kv/set', 'kv/get', 'util/ping', 'task/start', 'app/reload', 'file/copy', 'dir/create'].every(g.canCall),
    ).toBe(true)
    expect(['alert/test', 'file/audit', 'kv2/set'].some(g.canCall)).toBe(false)
    expect(g.canSubscribe('sense/response/kv/set')).toBe(true)
    expect(g.canSubscribe('sense/response/alert/test')).toBe(false)
    expect(g.canSubscribe('sense/response/#')).toBe(false)
  })

  it('keeps observer read-only on events, state and bridge', () => {
    const g = grantsOf(['observer'])
    expect(g.canCall('util/ping')).toBe(false)
    expect(['sense/event/#', 'sense/state/kv/#', 'sense/bridge/state'].every(g.canSubscribe)).toBe(true)
    expect(g.canSubscribe('#')).toBe(false)
    expect(g.canPublish('anything')).toBe(false)
  })

  it('unions roles and resolves {base} in config roles', () => {
    const g = grantsOf(['observer', 'ops'])
    expect(g.canCall('util/ping')).toBe(true)
    expect(g.canSubscribe('sense/ops/x')).toBe(true)
  })

  it('refuses to redefine a built-in role', () => {
    expect(() => buildRoleTable({ admin: { capabilities: [] } }, topics, registry)).toThrow(/built-in role/)
  })
})

describe('anonymous access', () => {
  const config = (overrides: Record<string, unknown>) => loadConfig(modules, { overrides })
  const users = {
    'security.users': [
      {
        username: 'u',
        passwordHash: 'scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
        roles: ['admin'],
      },
    ],
  }

  it('knows loopback addresses', () => {
    expect(['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1'].every(isLoopback)).toBe(true)
    expect(['0.0.0.0', '::', '10.0.0.5', 'example.com', '128.0.0.1'].some(isLoopback)).toBe(false)
  })

  it('admits anonymous clients while every listener is on loopback', () => {
    expect(decideAnonymous(config({}), silentLogger())).toBe(true)
    expect(decideAnonymous(config(users), silentLogger())).toBe(true)
  })

  it('refuses to start exposed without users or tokens, naming the setting', () => {
    expect(() => decideAnonymous(config({ 'http.host': '0.0.0.0' }), silentLogger())).toThrow(
      /Refusing to start.*http\.host: 0\.0\.0\.0.*allowAnonymous/s,
    )
    expect(() =>
      decideAnonymous(
        config({
          'broker.mqtts.enabled': true,
          'broker.mqtts.host': '10.1.2.3',
          'broker.mqtts.tls': { certFile: 'c', keyFile: 'k' },
        }),
        silentLogger(),
      ),
    ).toThrow(/broker\.mqtts\.host: 10\.1\.2\.3/)
  })

  it('turns anonymous access off once exposed with credentials, and on when explicitly allowed', () => {
    expect(decideAnonymous(config({ ...users, 'http.host': '0.0.0.0' }), silentLogger())).toBe(false)
    expect(decideAnonymous(config({ 'http.host': '0.0.0.0', 'security.allowAnonymous': true }), silentLogger())).toBe(
      true,
    )
    expect(decideAnonymous(config({ ...users, 'security.allowAnonymous': false }), silentLogger())).toBe(false)
    expect(() => decideAnonymous(config({ 'security.allowAnonymous': false }), silentLogger())).toThrow(
      /nobody could connect/,
    )
  })

  it('ignores the embedded listeners in external-broker mode', () => {
    expect(
      decideAnonymous(config({ 'broker.url': 'mqtt://broker:1883', 'broker.mqtt.host': '0.0.0.0' }), silentLogger()),
    ).toBe(true)
  })
})
