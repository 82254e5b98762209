import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { createCa, createLeaf } from '../../src/sim/certs/generate.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { connect, type TestClient } from '../helpers/client.js'
import { startServer } from '../helpers/process.js'
import { freeTcpPort, type HookReceiver, startHookReceiver } from './harness.js'

type Summary = { id: string; deliveries: Array<{ itemId: string; state: string; attempts: number }> }
type Receipt = { topic: string; payload: string }

/**
 * Webhook destinations against real receivers that fail and come back: a 500, a receiver that never
 * answers, a 429 with Retry-After, a port nobody listens on; and an HTTPS receiver signed by a private CA
 * whose PEM file is named relative to the config file's folder.
 */
describe('webhook deliveries that fail and come back', () => {
  let sb: TestApp
  let client: TestClient
  let receipts: Receipt[]
  const hooks: Record<string, HookReceiver> = {}
  let downPort: number
  const configDir = mkdtempSync(join(tmpdir(), 'alerts2-webhook-conf-'))

  beforeAll(async () => {
    const ca = createCa('alerts2 webhook CA')
    const leaf = createLeaf(ca, { commonName: '127.0.0.1', altNames: ['127.0.0.1', 'localhost'], usage: 'server' })
    mkdirSync(join(configDir, 'certs'))
    writeFileSync(join(configDir, 'certs', 'hook-ca.pem'), ca.cert)
    for (const name of ['flaky', 'slow', 'busy']) hooks[name] = await startHookReceiver()
    hooks.tls = await startHookReceiver({ tls: leaf })
    downPort = await freeTcpPort()
    const webhook = (url: string, extra: Record<string, unknown> = {}) => ({ type: 'webhook', url, ...extra })
    sb = await startTestApp({
      // As `sensebus start --config <configDir>/sensebus.yaml` does; the test's cwd is the repository.
      baseDir: configDir,
      overrides: {
        'outbox.baseDelayMs': 200,
        'outbox.maxDelayMs': 1000,
        'outbox.timeoutMs': 1500,
        'outbox.maxAttempts': 10,
        'capabilities.alert.destinations': {
          flaky: webhook(hooks.flaky?.url ?? ''),
          slow: webhook(hooks.slow?.url ?? ''),
          busy: webhook(hooks.busy?.url ?? '', { method: 'PUT' }),
          down: webhook(`http://127.0.0.1:${downPort}/hook`),
          tls: webhook(hooks.tls?.url ?? '', { caFile: 'certs/hook-ca.pem' }),
          untrusted: webhook(hooks.tls?.url ?? ''),
        },
      },
    })
    client = await connect(sb.mqttUrl)
    receipts = await client.collect('sense/event/alert/#')
  }, 60_000)
  afterAll(async () => {
    await client?.end()
    await sb?.stop({ clean: true })
    for (const h of Object.values(hooks)) await h.close()
    await rm(configDir, { recursive: true, force: true })
  })

  const send = async (destination: string) => {
    const r = await client.request<Summary>('alert/test', { destination })
    if (r.status !== 'ok') throw new Error(JSON.stringify(r))
    return r.data
  }
  const receiptsOf = (id: string, what: 'delivered' | 'failed') =>
    receipts
      .filter((x) => x.topic === `sense/event/alert/${id}/${what}`)
      .map((x) => JSON.parse(x.payload).data as { attempts: number; error?: string })

  it('retries after a 500 and delivers the same call, with one idempotency key', async () => {
    const hook = hooks.flaky as HookReceiver
    hook.script.push({ status: 500 })
    const alert = await send('flaky')
    await expect.poll(() => receiptsOf(alert.id, 'delivered').length, { timeout: 20_000 }).toBe(1)
    expect(hook.calls).toHaveLength(2)
    expect(receiptsOf(alert.id, 'failed')[0]?.error).toContain('answered 500')
    expect(receiptsOf(alert.id, 'delivered')[0]?.attempts).toBe(2)
    const [first, second] = hook.calls
    expect(first?.headers['idempotency-key']).toMatch(/^alert:test-/)
    expect(second?.headers['idempotency-key']).toBe(first?.headers['idempotency-key'])
    expect(second?.body).toBe(first?.body)
  }, 30_000)

  it('gives up on a receiver that never answers, then delivers once it does', async () => {
    const hook = hooks.slow as HookReceiver
    hook.script.push({ status: 200, hangMs: 6000 })
    const alert = await send('slow')
    await expect.poll(() => receiptsOf(alert.id, 'delivered').length, { timeout: 20_000 }).toBe(1)
    expect(receiptsOf(alert.id, 'failed')[0]?.error).toMatch(/abort|timeout/i)
    expect(hook.calls).toHaveLength(2)
  }, 30_000)

  it("waits at least the receiver's Retry-After after a 429", async () => {
    const hook = hooks.busy as HookReceiver
    hook.script.push({ status: 429, headers: { 'retry-after': '2' } })
    const alert = await send('busy')
    await expect.poll(() => receiptsOf(alert.id, 'delivered').length, { timeout: 20_000 }).toBe(1)
    expect(hook.calls.map((c) => c.method)).toEqual(['PUT', 'PUT'])
    // Our own backoff would have tried again within 1 s (maxDelayMs); the receiver asked for 2 s.
    const [first, second] = hook.calls
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(1900)
    expect(receiptsOf(alert.id, 'failed')[0]?.error).toContain('answered 429')
  }, 30_000)

  it('keeps trying a refused connection until the receiver comes up on that port', async () => {
    const alert = await send('down')
    await expect.poll(() => receiptsOf(alert.id, 'failed').length, { timeout: 20_000 }).toBeGreaterThanOrEqual(1)
    expect(receiptsOf(alert.id, 'failed')[0]?.error).toContain('ECONNREFUSED')
    expect(receiptsOf(alert.id, 'delivered')).toHaveLength(0)
    hooks.down = await startHookReceiver({ port: downPort })
    await expect.poll(() => receiptsOf(alert.id, 'delivered').length, { timeout: 20_000 }).toBe(1)
    expect(hooks.down.calls).toHaveLength(1)
    const body = JSON.parse(hooks.down.calls[0]?.body ?? '{}')
    expect(body).toMatchObject({ alertId: alert.id, event: 'Qlik Sense reload failed' })
  }, 30_000)

  it('trusts an HTTPS receiver through a CA file named relative to the config folder', async () => {
    const hook = hooks.tls as HookReceiver
    const alert = await send('tls')
    await expect.poll(() => receiptsOf(alert.id, 'delivered').length, { timeout: 20_000 }).toBe(1)
    expect(receiptsOf(alert.id, 'failed')).toHaveLength(0)
    expect(hook.calls).toHaveLength(1)
    // The same receiver without the CA: the certificate is refused, nothing arrives.
    const untrusted = await send('untrusted')
    await expect.poll(() => receiptsOf(untrusted.id, 'failed').length, { timeout: 20_000 }).toBeGreaterThanOrEqual(1)
    expect(receiptsOf(untrusted.id, 'failed')[0]?.error).toMatch(/certificate/i)
    expect(hook.calls).toHaveLength(1)
  }, 30_000)
})

describe('sensebus start --config: a relative caFile', () => {
  it('is read from the config file folder, not the working directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'alerts2-webhook-cli-'))
    const ca = createCa('alerts2 cli CA')
    const leaf = createLeaf(ca, { commonName: '127.0.0.1', altNames: ['127.0.0.1'], usage: 'server' })
    writeFileSync(join(dir, 'hook-ca.pem'), ca.cert)
    const hook = await startHookReceiver({ tls: leaf })
    writeFileSync(
      join(dir, 'sensebus.yaml'),
      stringify({
        capabilities: {
          alert: {
            udp: { port: 0 },
            destinations: { secure: { type: 'webhook', url: hook.url, caFile: 'hook-ca.pem' } },
          },
        },
      }),
    )
    // The child's working directory is the repository, where no hook-ca.pem exists.
    const proc = await startServer(['--config', join(dir, 'sensebus.yaml'), '--data-dir', join(dir, 'data')])
    try {
      const client = await connect(proc.mqttUrl)
      const receipts = await client.collect('sense/event/alert/#')
      const r = await client.request<Summary>('alert/test', { destination: 'secure' })
      expect(r.status).toBe('ok')
      await expect.poll(() => receipts.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(1)
      expect(receipts[0]?.topic).toMatch(/\/delivered$/)
      expect(hook.calls).toHaveLength(1)
      await client.end()
    } finally {
      proc.child.kill('SIGTERM')
      await proc.exited
      await hook.close()
      await rm(dir, { recursive: true, force: true })
    }
  }, 60_000)
})
