import { mkdtemp, rm } from 'node:fs/promises'
import { connect as tcpConnect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type App, startApp } from '../../src/app.js'
import { modules } from '../../src/capabilities/index.js'
import { loadConfig } from '../../src/config/load.js'
import { createLogger } from '../../src/log.js'
import { connect } from '../helpers/client.js'

/** Issue #8, item 14: what a misbehaving client can make sensebus write to its log. */
describe('log noise from clients', () => {
  const records: Array<Record<string, unknown>> = []
  let app: App
  let dataDir: string
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) records.push(JSON.parse(line))
      done()
    },
  })

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'ops-noise-'))
    const config = loadConfig(modules, {
      overrides: {
        dataDir,
        'broker.mqtt.port': 0,
        'broker.ws.port': 0,
        'http.port': 0,
        'capabilities.alert.udp.port': 0,
      },
    })
    app = await startApp({ config, modules, log: createLogger({ level: 'debug', destination: sink }) })
  })
  afterAll(async () => {
    await app?.stop()
    await rm(dataDir, { recursive: true, force: true })
  })

  it('logs a client that aborts mid-body at debug, without a stack, and keeps serving', async () => {
    const port = app.endpoints.http?.port as number
    const socket = tcpConnect(port, '127.0.0.1')
    await new Promise((r) => socket.once('connect', r))
    socket.write(
      'POST /api/v1/kv/set HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n' +
        'content-length: 1000\r\n\r\n{"names',
    )
    await new Promise((r) => setTimeout(r, 100))
    socket.destroy()
    await expect.poll(() => records.some((r) => r.msg === 'client aborted the request')).toBe(true)
    const aborted = records.find((r) => r.msg === 'client aborted the request')
    expect(aborted).toMatchObject({ level: 20, area: 'http' })
    expect(JSON.stringify(aborted)).not.toContain('    at ')
    expect(records.filter((r) => (r.level as number) >= 50)).toEqual([])
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/util/ping`, { method: 'POST' })
    expect(res.status).toBe(200)
  })

  it('cuts a caller-chosen transaction short in the audit line', async () => {
    const client = await connect(`mqtt://127.0.0.1:${app.endpoints.mqtt?.port}`)
    const transaction = 'x'.repeat(200_000)
    await client.raw('util/ping', JSON.stringify({ transaction }))
    await client.end()
    await expect.poll(() => records.some((r) => r.area === 'audit' && r.capability === 'util/ping')).toBe(true)
    const audit = records.find((r) => r.area === 'audit' && r.capability === 'util/ping')
    expect(String(audit?.transaction).length).toBeLessThanOrEqual(257)
    expect(JSON.stringify(audit).length).toBeLessThan(2_000)
  })
})
