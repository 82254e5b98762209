import mqtt, { type MqttClient } from 'mqtt'
import { afterEach, describe, expect, it } from 'vitest'
import { PASSWORDS, securityOverrides, startSecureApp, type SecureApp } from './harness.js'

const as = (user: keyof typeof PASSWORDS) => ({ username: user, password: PASSWORDS[user] })

/** Client ids are the attack here, so every connection names its own. */
async function open(url: string, user: keyof typeof PASSWORDS, clientId: string, clean: boolean): Promise<MqttClient> {
  return mqtt.connectAsync(url, { ...as(user), clientId, clean, reconnectPeriod: 0, connectTimeout: 3000 })
}

async function refusal(url: string, user: keyof typeof PASSWORDS, clientId: string): Promise<number | undefined> {
  try {
    const c = await open(url, user, clientId, false)
    await c.endAsync()
    return undefined
  } catch (err) {
    return (err as { code?: number }).code
  }
}

function received(client: MqttClient): string[] {
  const got: string[] = []
  client.on('message', (topic, payload) => got.push(`${topic} ${payload.toString()}`))
  return got
}

describe('MQTT client ids and persistent sessions', () => {
  const apps: SecureApp[] = []
  const clients: MqttClient[] = []
  const start = async (extra: Record<string, unknown> = {}, dataDir?: string) => {
    const sb = await startSecureApp({ overrides: await securityOverrides(extra), ...(dataDir ? { dataDir } : {}) })
    apps.push(sb)
    return sb
  }
  const keep = (c: MqttClient) => {
    clients.push(c)
    return c
  }
  afterEach(async () => {
    for (const c of clients.splice(0)) c.end(true)
    for (const sb of apps.splice(0)) await sb.stop().catch(() => undefined)
  })

  it("refuses another user's client id with CONNACK 2 and leaves its holder connected", async () => {
    const sb = await start()
    const holder = keep(await open(sb.mqttUrl, 'etl', 'device-1', false))
    expect(await refusal(sb.mqttUrl, 'watcher', 'device-1')).toBe(2)
    await new Promise((r) => setTimeout(r, 200))
    expect(holder.connected).toBe(true)
    await holder.endAsync()
    // Its persistent session still holds the id while the holder is away...
    expect(await refusal(sb.mqttUrl, 'watcher', 'device-1')).toBe(2)
    // ...and its owner gets the session back.
    const back = keep(await open(sb.mqttUrl, 'etl', 'device-1', false))
    expect(back.connected).toBe(true)
  })

  it('lets the same user take its own client id over, as MQTT intends', async () => {
    const sb = await start()
    const first = keep(await open(sb.mqttUrl, 'etl', 'device-2', true))
    const closed = new Promise<void>((r) => first.once('close', () => r()))
    keep(await open(sb.mqttUrl, 'etl', 'device-2', true))
    await closed
  })

  it('frees the id when its owner ends with a clean session', async () => {
    const sb = await start()
    const c = await open(sb.mqttUrl, 'etl', 'device-3', true)
    await c.endAsync()
    expect(await refusal(sb.mqttUrl, 'watcher', 'device-3')).toBeUndefined()
  })

  it('keeps the claim of a persistent session across a restart', async () => {
    const sb = await start()
    const c = await open(sb.mqttUrl, 'etl', 'device-4', false)
    await c.subscribeAsync('sense/event/#', { qos: 1 })
    await c.endAsync()
    await sb.app.stop()
    apps.pop()
    const again = await start({}, sb.dataDir)
    expect(await refusal(again.mqttUrl, 'watcher', 'device-4')).toBe(2)
    expect(await refusal(again.mqttUrl, 'etl', 'device-4')).toBeUndefined()
  })

  it('lets admin take an id over only when broker.adminTakesOverClientIds is set', async () => {
    const strict = await start()
    keep(await open(strict.mqttUrl, 'etl', 'device-5', false))
    expect(await refusal(strict.mqttUrl, 'admin', 'device-5')).toBe(2)
    const lax = await start({ 'broker.adminTakesOverClientIds': true })
    keep(await open(lax.mqttUrl, 'etl', 'device-5', false))
    expect(await refusal(lax.mqttUrl, 'admin', 'device-5')).toBeUndefined()
  })

  it('does not deliver queued messages a resumed session may no longer read', async () => {
    const sb = await start()
    const reader = await open(sb.mqttUrl, 'reader', 'reader-1', false)
    await reader.subscribeAsync('apps/sales/#', { qos: 1 })
    await reader.endAsync()
    await sb.app.stop()
    apps.pop()
    // The kv-reader role loses apps/sales while its session waits on disk.
    const narrowed = await start(
      {
        'security.roles': {
          'kv-reader': { capabilities: ['kv/get'], publish: [], subscribe: ['apps/other/#'] },
        },
      },
      sb.dataDir,
    )
    const admin = keep(await mqtt.connectAsync(narrowed.mqttUrl, { ...as('admin'), reconnectPeriod: 0 }))
    await admin.publishAsync('apps/sales/q4', 'secret', { qos: 1 })
    await admin.publishAsync('apps/other/x', 'fine', { qos: 1 })
    // Listen before CONNACK: a resumed session's queue arrives right behind it.
    const back = keep(
      mqtt.connect(narrowed.mqttUrl, { ...as('reader'), clientId: 'reader-1', clean: false, reconnectPeriod: 0 }),
    )
    const got = received(back)
    await new Promise((resolve, reject) => back.once('connect', resolve).once('error', reject))
    await back.subscribeAsync('apps/other/#', { qos: 1 })
    await admin.publishAsync('apps/other/y', 'fine', { qos: 1 })
    await admin.publishAsync('apps/sales/q1', 'secret', { qos: 1 })
    await new Promise((r) => setTimeout(r, 500))
    expect(got.filter((m) => m.includes('secret'))).toEqual([])
    expect(got).toContain('apps/other/y fine')
  })
})
