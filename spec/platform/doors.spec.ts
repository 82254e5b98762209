import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { modules as registry } from '../../src/capabilities/index.js'
import type { Identity } from '../../src/core/identity.js'
import { connect, type TestClient } from '../helpers/client.js'
import { runCli } from '../helpers/process.js'
import { PASSWORDS, type SecureApp, securityOverrides, startSecureApp, TOKENS } from '../security/harness.js'
import { probeModule } from './probe-module.js'

const probe = probeModule()
let sb: SecureApp
let etl: TestClient

async function http(path: string, body: unknown, token = TOKENS.etl) {
  const res = await fetch(`${sb.httpUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  })
  return { status: res.status, json: (await res.json()) as Record<string, any> }
}

const cli = (args: string[], user = 'etl', password = PASSWORDS.etl) =>
  runCli([...args, '--url', sb.mqttUrl, '--username', user, '--password', password], { timeoutMs: 20_000 })

const loadscript: Identity = { via: 'internal', transport: 'internal', user: 'reload-chain', roles: ['loadscript'] }

beforeAll(async () => {
  sb = await startSecureApp({
    modules: [...registry, probe.module],
    overrides: await securityOverrides({ 'bus.requestTimeoutMs': 500, 'log.level': 'info' }),
  })
  etl = await connect(sb.mqttUrl, { username: 'etl', password: PASSWORDS.etl })
})
afterAll(async () => {
  await etl?.end()
  await sb?.stop()
})

describe('a capability module through every door', () => {
  it('runs with the same services and authorization from MQTT, HTTP, the CLI and an internal caller', async () => {
    const mqtt = await etl.request('probe/run', { ms: 10, note: 'mqtt', wait: true })
    expect(mqtt).toMatchObject({
      status: 'ok',
      data: { via: 'mqtt', user: 'etl', sense: 'unconfigured', state: 'completed' },
    })

    const viaHttp = await http('/api/v1/probe/run', { ms: 10, note: 'http', wait: true })
    expect(viaHttp).toMatchObject({ status: 200, json: { via: 'http', user: 'etl-scripts', state: 'completed' } })

    const run = await cli(['request', 'probe/run', '{"ms":10,"note":"cli","wait":true}'])
    expect(run.code).toBe(0)
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'ok', data: { via: 'cli', user: 'etl' } })

    const internal = await sb.app.bus.request(
      'probe/run',
      { ms: 10, note: 'internal', wait: true },
      { identity: loadscript },
    )
    expect(internal).toMatchObject({ status: 'ok', data: { via: 'internal', user: 'reload-chain' } })

    // Each one's outbox delivery happened, and each got one audit line naming the caller and the door.
    await expect.poll(() => probe.delivered.map((d) => d.note).sort()).toEqual(['cli', 'http', 'internal', 'mqtt'])
    const audit = sb.logs.filter((l) => l.area === 'audit' && l.capability === 'probe/run')
    expect(audit.map((l) => `${l.via}:${l.username}:${l.outcome}`).sort()).toEqual([
      'cli:etl:ok',
      'http:etl-scripts:ok',
      'internal:reload-chain:ok',
      'mqtt:etl:ok',
    ])
    expect(audit.every((l) => typeof l.jobId === 'string')).toBe(true)
  })

  it('keeps a loadscript caller out of an admin-only capability whatever the door', async () => {
    // It may not read probe/admin-only's response topic either, so it asks for the answer on its own reply id.
    const own = { replyTo: 'sense/reply/etl-doors/probe' }
    expect(await etl.request('probe/admin-only', own)).toMatchObject({ status: 'error', error: { code: 'FORBIDDEN' } })
    expect((await http('/api/v1/probe/admin-only', {})).status).toBe(403)
    const run = await cli(['request', 'probe/admin-only', '{}'])
    expect(run.code).toBe(1)
    expect(JSON.parse(run.stdout)).toMatchObject({ error: { code: 'FORBIDDEN' } })
    const internal = await sb.app.bus.request('probe/admin-only', {}, { identity: loadscript })
    expect(internal).toMatchObject({ status: 'error', error: { code: 'FORBIDDEN' } })
    // An admin gets through the same doors.
    expect((await http('/api/v1/probe/admin-only', {}, TOKENS.admin)).json).toEqual({ ok: true })
  })

  it('refuses an internal request that carries no identity', async () => {
    const env = await sb.app.bus.request('util/ping', {})
    expect(env).toMatchObject({ status: 'error', error: { code: 'FORBIDDEN', message: 'The request has no identity' } })
  })

  it("honours the capability's own timeout over HTTP, not the bus default", async () => {
    // bus.requestTimeoutMs is 500 here; probe/slow declares 1500.
    const within = await http('/api/v1/probe/slow', { ms: 900 }, TOKENS.admin)
    expect(within).toMatchObject({ status: 200, json: { slept: 900 } })
    const beyond = await http('/api/v1/probe/slow', { ms: 3000 }, TOKENS.admin)
    expect(beyond).toMatchObject({
      status: 504,
      json: { code: 'TIMEOUT', message: expect.stringContaining('1500 ms') },
    })
  })
})

describe('long-running requests as jobs', () => {
  it('answers with a job id at once, then publishes progress, a result and a retained state', async () => {
    const watcher = await connect(sb.mqttUrl, { username: 'watcher', password: PASSWORDS.watcher })
    const events = await watcher.collect('sense/event/job/#')
    const env = await etl.request('probe/run', { ms: 200, note: 'async' })
    expect(env).toMatchObject({ status: 'ok', data: { state: 'running', jobId: expect.any(String) } })
    const jobId = (env as { data: { jobId: string } }).data.jobId
    await expect
      .poll(() => events.map((e) => e.topic))
      .toEqual([`sense/event/job/${jobId}/progress`, `sense/event/job/${jobId}/completed`])
    const completed = JSON.parse(events[1]?.payload ?? '{}')
    expect(completed).toMatchObject({ type: 'sense.job.completed', data: { jobId, result: { via: 'mqtt' } } })
    const state = await watcher.collect(`sense/state/job/${jobId}`)
    // The retained copy; and the live one too when the subscription lands while the state is being stored
    // (Aedes stores a retained message before it emits it; MQTT allows both copies).
    await expect.poll(() => state.length).toBeGreaterThan(0)
    expect(new Set(state.map((s) => JSON.parse(s.payload).state))).toEqual(new Set(['completed']))
    expect(await etl.request('job/status', { jobId })).toMatchObject({ status: 'ok', data: { state: 'completed' } })
    await watcher.end()
  })

  it('goes on when its caller disconnects, and can be cancelled by its owner only', async () => {
    const leaver = await connect(sb.mqttUrl, { username: 'etl', password: PASSWORDS.etl })
    const started = await leaver.request('probe/run', { ms: 300, note: 'left' })
    const jobId = (started as { data: { jobId: string } }).data.jobId
    await leaver.end()
    await expect
      .poll(
        async () =>
          (await etl.request('job/status', { jobId })).status === 'ok' &&
          (await etl.request<{ state: string }>('job/status', { jobId })),
      )
      .toMatchObject({ data: { state: 'completed' } })

    const long = await etl.request('probe/run', { ms: 4000, note: 'cancel-me' })
    const longId = (long as { data: { jobId: string } }).data.jobId
    // Another loadscript caller (the HTTP token) may call job/cancel, but not on etl's job.
    expect(await http('/api/v1/job/cancel', { jobId: longId })).toMatchObject({ status: 403 })
    expect(await etl.request('job/cancel', { jobId: longId })).toMatchObject({ status: 'ok' })
    await expect
      .poll(async () =>
        (await etl.request<{ state: string }>('job/status', { jobId: longId })).status === 'ok'
          ? await etl.request<{ state: string }>('job/status', { jobId: longId })
          : undefined,
      )
      .toMatchObject({ data: { state: 'cancelled', error: { code: 'CANCELLED' } } })
  })

  it('with wait: true over HTTP answers the final result, a timeout as 504', async () => {
    const res = await http('/api/v1/probe/run', { ms: 5, note: 'wait', wait: true })
    expect(res.json).toMatchObject({ state: 'completed', via: 'http' })
  })
})
