import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { modules } from '../../src/capabilities/index.js'
import { connect, type TestClient } from '../helpers/client.js'
import { BUS_MODES, startInMode, type ModeApp } from '../helpers/modes.js'
import { testModule } from '../helpers/slow-module.js'

describe.each(BUS_MODES)('dispatcher (%s broker)', (mode) => {
  let sb: ModeApp
  let client: TestClient

  beforeAll(async () => {
    sb = await startInMode(mode, { modules: [...modules, testModule], overrides: { 'bus.maxInFlight': 4 } })
    client = await connect(sb.mqttUrl)
  })
  afterAll(async () => {
    await client?.end()
    await sb?.stop({ clean: true })
  })

  it('echoes the transaction and answers on the response topic', async () => {
    const env = await client.request('util/ping', { transaction: 'abc-1' })
    expect(env).toEqual({
      transaction: 'abc-1',
      status: 'ok',
      data: { response: 'Butler reporting for duty', butlerVersion: expect.any(String), version: expect.any(String) },
    })
  })

  it('answers a payload that is not JSON with BAD_JSON', async () => {
    const env = await client.raw('util/ping', 'not json {')
    expect(env).toMatchObject({ status: 'error', error: { code: 'BAD_JSON' } })
  })

  it('takes an empty payload as the empty request, and answers a JSON array with an error', async () => {
    expect(await client.raw('util/ping', '')).toMatchObject({
      status: 'ok',
      data: { response: 'Butler reporting for duty' },
    })
    expect(await client.raw('kv/get', '')).toMatchObject({ status: 'error', error: { code: 'VALIDATION_FAILED' } })
    expect(await client.raw('util/ping', '[1,2]')).toMatchObject({
      status: 'error',
      error: { code: 'VALIDATION_FAILED' },
    })
  })

  it('answers an unknown capability with NOT_FOUND', async () => {
    const env = await client.request('nope/nothing', { transaction: 't-404' })
    expect(env).toMatchObject({ transaction: 't-404', status: 'error', error: { code: 'NOT_FOUND' } })
  })

  it('lists every schema problem in details', async () => {
    const env = await client.request('kv/set', { namespace: '', value: { no: 1 }, extra: true })
    expect(env.status).toBe('error')
    if (env.status !== 'error') return
    expect(env.error.code).toBe('VALIDATION_FAILED')
    const paths = [...new Set((env.error.details as Array<{ path: string }>).map((d) => d.path))].sort()
    expect(paths).toEqual(['/extra', '/key', '/namespace', '/value'])
  })

  it('answers on replyTo when given, and refuses replyTo inside sensebus-owned trees', async () => {
    const ok = await client.request('util/ping', { replyTo: 'my/app/replies' })
    expect(ok.status).toBe('ok')
    const responses = await client.collect('sense/response/util/ping')
    await client.mqtt.publishAsync(
      'sense/request/util/ping',
      JSON.stringify({ transaction: 'r2', replyTo: 'sense/state/forged' }),
      { qos: 1 },
    )
    await expect.poll(() => responses.find((r) => r.payload.includes('"r2"'))).toBeTruthy()
    const refusal = JSON.parse(responses.find((r) => r.payload.includes('"r2"'))!.payload)
    expect(refusal).toMatchObject({ transaction: 'r2', status: 'error', error: { code: 'VALIDATION_FAILED' } })
  })

  it('reports a coded handler error as is, and an unexpected one as INTERNAL without its message', async () => {
    expect(await client.request('test/throw', { kind: 'coded' })).toMatchObject({
      status: 'error',
      error: { code: 'CONFLICT', message: 'a coded failure', details: { why: 'test' } },
    })
    const env = await client.request('test/throw', { kind: 'bug' })
    expect(env).toMatchObject({ status: 'error', error: { code: 'INTERNAL' } })
    expect(JSON.stringify(env)).not.toContain('secret internal detail')
  })

  it('times out a handler that takes too long, with exactly one TIMEOUT answer', async () => {
    const responses = await client.collect('sense/response/test/sleep')
    const env = await client.request('test/sleep', { ms: 3000, transaction: 'slow-1' }, { timeoutMs: 5000 })
    expect(env).toMatchObject({ transaction: 'slow-1', status: 'error', error: { code: 'TIMEOUT' } })
    await new Promise((r) => setTimeout(r, 1700))
    expect(responses.filter((r) => r.payload.includes('slow-1'))).toHaveLength(1)
  })

  it("aborts the handler's signal when its time is up, with the TIMEOUT reason", async () => {
    const events = await client.collect('sense/event/test/aborted')
    const env = await client.request('test/wait-abort', { transaction: 'abort-1' }, { timeoutMs: 5000 })
    expect(env).toMatchObject({ transaction: 'abort-1', status: 'error', error: { code: 'TIMEOUT' } })
    await expect
      .poll(() => events.map((e) => JSON.parse(e.payload)))
      .toEqual([{ code: 'TIMEOUT', transaction: 'abort-1' }])
  })

  it('keeps answering fast requests while a slow one runs', async () => {
    const slow = client.request('test/sleep', { ms: 800 })
    const started = Date.now()
    const fast = await client.request('util/ping')
    expect(fast.status).toBe('ok')
    expect(Date.now() - started).toBeLessThan(700)
    expect((await slow).status).toBe('ok')
  })

  it('answers BUSY beyond the in-flight limit, and everything else normally', async () => {
    const all = await Promise.all(
      Array.from({ length: 8 }, (_, i) => client.request('test/sleep', { ms: 400, transaction: `b${i}` })),
    )
    const codes = all.map((e) => (e.status === 'ok' ? 'ok' : e.error.code))
    expect(codes.filter((c) => c === 'ok')).toHaveLength(4)
    expect(codes.filter((c) => c === 'BUSY')).toHaveLength(4)
  })

  it('publishes progress of long-running requests as events', async () => {
    const events = await client.collect('sense/event/request/progress')
    await client.request('test/sleep', { ms: 10, transaction: 'p1' })
    await expect.poll(() => events.length).toBeGreaterThan(0)
    expect(JSON.parse(events[0]!.payload)).toMatchObject({
      type: 'sense.request.progress',
      data: { capability: 'test/sleep', transaction: 'p1', phase: 'sleeping' },
    })
  })

  it('answers many concurrent requests from many clients exactly once each', async () => {
    const clients = await Promise.all(Array.from({ length: 5 }, () => connect(sb.mqttUrl)))
    const results = await Promise.all(
      clients.flatMap((c, i) =>
        Array.from({ length: 40 }, (_, j) => c.request('util/ping', { transaction: `c${i}-${j}` })),
      ),
    )
    // The in-flight limit is 4 here, so some are refused with BUSY: but each gets its one answer.
    expect(results.map((r) => r.transaction)).toEqual(
      clients.flatMap((_, i) => Array.from({ length: 40 }, (_, j) => `c${i}-${j}`)),
    )
    expect(results.every((r) => r.status === 'ok' || r.error.code === 'BUSY')).toBe(true)
    await Promise.all(clients.map((c) => c.end()))
  })
})
