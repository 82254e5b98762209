import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, type TestClient } from '../helpers/client.js'
import { hashPassword } from '../../src/security/hash.js'
import { PASSWORDS, securityOverrides, startSecureApp, type SecureApp, TEST_COST } from './harness.js'

const REPORTER_PW = 'report-pw-5e2c'

/**
 * Roles that carve exceptions out of their grants: KV scoped to namespaces (every kv/* call and the
 * retained mirror), and deny filters that win over any grant.
 */
describe('namespace-scoped KV grants and deny filters', () => {
  let sb: SecureApp
  const clients: TestClient[] = []
  const open = async (username: string, password: string) => {
    const c = await connect(sb.mqttUrl, { username, password })
    clients.push(c)
    return c
  }

  beforeAll(async () => {
    const base = await securityOverrides()
    sb = await startSecureApp({
      overrides: {
        ...base,
        'security.users': [
          ...(base['security.users'] as unknown[]),
          // loadscript alone reaches every namespace; the scoped role narrows it, it does not add to it.
          {
            username: 'reporter',
            passwordHash: await hashPassword(REPORTER_PW, TEST_COST),
            roles: ['loadscript', 'reporting'],
          },
        ],
        'security.roles': {
          ...(base['security.roles'] as Record<string, unknown>),
          reporting: {
            capabilities: ['kv/*'],
            subscribe: ['{base}/state/#', 'plant/#'],
            publish: ['plant/#'],
            denyPublish: ['plant/safety/#'],
            denySubscribe: ['plant/secret/#', '{base}/state/schedule/#'],
            kv: { namespaces: ['reports/*', 'shared'] },
          },
        },
      },
    })
    const admin = await open('admin', PASSWORDS.admin)
    for (const [namespace, key] of [
      ['reports/daily', 'rows'],
      ['finance', 'salary'],
      ['shared', 'note'],
    ]) {
      expect((await admin.request('kv/set', { namespace, key, value: 'v' })).status).toBe('ok')
    }
  })
  afterAll(async () => {
    for (const c of clients) await c.end()
    await sb?.stop()
  })

  it('lets a scoped role use its namespaces and answers FORBIDDEN for others, on every kv/* capability', async () => {
    const r = await open('reporter', REPORTER_PW)
    expect(await r.request('kv/get', { namespace: 'reports/daily', key: 'rows' })).toMatchObject({
      status: 'ok',
      data: { value: 'v' },
    })
    expect((await r.request('kv/set', { namespace: 'reports/weekly', key: 'k', value: '1' })).status).toBe('ok')
    for (const [capability, body] of [
      ['kv/get', { namespace: 'finance', key: 'salary' }],
      ['kv/exists', { namespace: 'finance', key: 'salary' }],
      ['kv/keys', { namespace: 'finance' }],
      ['kv/set', { namespace: 'finance', key: 'salary', value: '0' }],
      ['kv/delete', { namespace: 'finance', key: 'salary' }],
      ['kv/delete-namespace', { namespace: 'finance' }],
      ['kv/set', { namespace: 'reports', key: 'k', value: '1' }],
    ] as const) {
      const env = await r.request(capability, body)
      expect(env, capability).toMatchObject({ status: 'error', error: { code: 'FORBIDDEN' } })
    }
    const listed = await r.request<{ namespaces: string[] }>('kv/namespaces', {})
    expect(listed.status === 'ok' && listed.data.namespaces.sort()).toEqual([
      'reports/daily',
      'reports/weekly',
      'shared',
    ])
    const admin = await open('admin', PASSWORDS.admin)
    expect(await admin.request('kv/get', { namespace: 'finance', key: 'salary' })).toMatchObject({
      data: { value: 'v' },
    })
  })

  it('delivers only the scoped namespaces from the retained mirror, even to a broad subscription', async () => {
    const r = await open('reporter', REPORTER_PW)
    const seen = await r.collect('sense/state/kv/#')
    const admin = await open('admin', PASSWORDS.admin)
    await admin.request('kv/set', { namespace: 'finance', key: 'live', value: 'secret' })
    await admin.request('kv/set', { namespace: 'shared', key: 'live', value: 'ok' })
    await expect.poll(() => seen.some((m) => m.topic === 'sense/state/kv/shared/live')).toBe(true)
    const namespaces = new Set(seen.map((m) => decodeURIComponent(m.topic.split('/')[3] ?? '')))
    expect([...namespaces].sort()).toEqual(['reports/daily', 'reports/weekly', 'shared'])
  })

  it('applies deny filters over grants: publishes dropped, covered filters refused, others filtered', async () => {
    const r = await open('reporter', REPORTER_PW)
    const admin = await open('admin', PASSWORDS.admin)
    const adminSeen = await admin.collect('plant/#')
    await r.mqtt.publishAsync('plant/line1', 'ok', { qos: 1 })
    await r.mqtt.publishAsync('plant/safety/stop', 'denied', { qos: 1 })
    await r.mqtt.publishAsync('plant/line2', 'after', { qos: 1 })
    await expect.poll(() => adminSeen.map((m) => m.payload)).toEqual(['ok', 'after'])
    expect(r.mqtt.connected).toBe(true)

    const granted = await r.mqtt
      .subscribeAsync('plant/secret/#')
      .catch((e: { packet?: { granted?: number[] } }) => e.packet?.granted?.map((qos) => ({ qos })))
    expect(granted?.[0]?.qos).toBe(128)
    const plant = await r.collect('plant/#')
    await admin.mqtt.publishAsync('plant/secret/recipe', 'hidden', { qos: 1 })
    await admin.mqtt.publishAsync('plant/line3', 'visible', { qos: 1 })
    await expect.poll(() => plant.some((m) => m.payload === 'visible')).toBe(true)
    expect(plant.map((m) => m.payload)).not.toContain('hidden')

    const state = await r.collect('sense/state/#')
    const made = await admin.request('schedule/create', {
      name: 'x',
      cron: '0 3 * * *',
      qlikSenseTaskId: '00000000-0000-0000-0000-000000000001',
    })
    expect(made.status).toBe('ok')
    const adminState = await admin.collect('sense/state/schedule/#')
    await expect.poll(() => adminState.length).toBeGreaterThan(0)
    await admin.request('kv/set', { namespace: 'shared', key: 'after-schedule', value: '1' })
    await expect.poll(() => state.some((m) => m.topic.endsWith('/after-schedule'))).toBe(true)
    expect(state.filter((m) => m.topic.startsWith('sense/state/schedule/'))).toEqual([])
  })
})
