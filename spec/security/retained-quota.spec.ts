import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, type TestClient } from '../helpers/client.js'
import { PASSWORDS, securityOverrides, startSecureApp, type SecureApp } from './harness.js'

const QUOTA = {
  'broker.retained.maxMessagesPerUser': 3,
  'broker.retained.maxBytesPerUser': 1000,
  'broker.retained.maxMessages': 5,
}

/** Retained messages a fresh subscriber gets under `filter`. */
async function retainedUnder(url: string, filter: string): Promise<string[]> {
  const c = await connect(url, { username: 'admin', password: PASSWORDS.admin })
  const seen = await c.collect(filter)
  await new Promise((r) => setTimeout(r, 300))
  await c.end()
  return seen
    .filter((m) => m.retain)
    .map((m) => m.topic.split('/').pop() as string)
    .sort()
}

describe('retained quotas per user and for everyone', () => {
  let dataDir: string
  let sb: SecureApp
  const clients: TestClient[] = []
  const open = async (user: 'admin' | 'reader') => {
    const c = await connect(sb.mqttUrl, { username: user, password: PASSWORDS[user] })
    clients.push(c)
    return c
  }
  const start = async () => {
    sb = await startSecureApp({ dataDir, overrides: await securityOverrides(QUOTA) })
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sensebus-quota-'))
    await start()
  })
  afterAll(async () => {
    for (const c of clients) await c.end()
    await sb?.app.stop()
    await rm(dataDir, { recursive: true, force: true })
  })

  it('keeps a user within its count and bytes: beyond, messages are delivered live but not retained', async () => {
    const reader = await open('reader')
    const live = await (await open('admin')).collect('apps/sense/#')
    for (const n of ['1', '2', '3', '4'])
      await reader.mqtt.publishAsync(`apps/sense/${n}`, `v${n}`, { qos: 1, retain: true })
    await expect.poll(() => live.length, { timeout: 5000 }).toBe(4)
    expect(reader.mqtt.connected).toBe(true)
    expect(await retainedUnder(sb.mqttUrl, 'apps/sense/#')).toEqual(['1', '2', '3'])
    // Replacing one of its own does not need a new slot; clearing one frees it.
    await reader.mqtt.publishAsync('apps/sense/3', 'v3b', { qos: 1, retain: true })
    await reader.mqtt.publishAsync('apps/sense/2', '', { qos: 1, retain: true })
    await reader.mqtt.publishAsync('apps/sense/4', 'v4', { qos: 1, retain: true })
    expect(await retainedUnder(sb.mqttUrl, 'apps/sense/#')).toEqual(['1', '3', '4'])
    await reader.mqtt.publishAsync('apps/sense/big', 'x'.repeat(1001), { qos: 1, retain: true })
    expect(await retainedUnder(sb.mqttUrl, 'apps/sense/#')).toEqual(['1', '3', '4'])
    expect(sb.logs.some((l) => l.msg === 'retained quota reached; delivered without retaining')).toBe(true)
  })

  it('holds everyone together to the global count, and keeps the accounts across a restart', async () => {
    const admin = await open('admin')
    await admin.mqtt.publishAsync('ops/a', 'a', { qos: 1, retain: true })
    await admin.mqtt.publishAsync('ops/b', 'b', { qos: 1, retain: true })
    await admin.mqtt.publishAsync('ops/c', 'c', { qos: 1, retain: true })
    expect(await retainedUnder(sb.mqttUrl, 'ops/#')).toEqual(['a', 'b'])

    for (const c of clients.splice(0)) await c.end()
    await sb.app.stop()
    await start()
    const reader = await open('reader')
    await reader.mqtt.publishAsync('apps/sense/5', 'v5', { qos: 1, retain: true })
    expect(await retainedUnder(sb.mqttUrl, 'apps/sense/#')).toEqual(['1', '3', '4'])
    await (await open('admin')).mqtt.publishAsync('ops/a', '', { qos: 1, retain: true })
    await reader.mqtt.publishAsync('apps/sense/1', '', { qos: 1, retain: true })
    await reader.mqtt.publishAsync('apps/sense/5', 'v5', { qos: 1, retain: true })
    expect(await retainedUnder(sb.mqttUrl, 'apps/sense/#')).toEqual(['3', '4', '5'])
  })
})
