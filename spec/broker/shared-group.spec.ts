import { describe, expect, it } from 'vitest'
import { startTestApp } from '../helpers/app.js'
import { connect } from '../helpers/client.js'
import { startMosquitto } from '../helpers/mosquitto.js'

describe('several sensebus instances on one external broker', () => {
  it('with broker.sharedGroup, each request is answered exactly once by one of them', async () => {
    const mosquitto = await startMosquitto()
    const overrides = { 'broker.sharedGroup': 'sensebus' }
    const a = await startTestApp({ brokerUrl: mosquitto.url, overrides })
    const b = await startTestApp({ brokerUrl: mosquitto.url, overrides })
    const client = await connect(mosquitto.url)
    const responses = await client.collect('sense/response/util/ping')
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => client.request('util/ping', { transaction: `s${i}` })),
    )
    expect(results.every((r) => r.status === 'ok')).toBe(true)
    await new Promise((r) => setTimeout(r, 300))
    expect(responses).toHaveLength(60)
    const instances = new Set(results.map((r) => (r.status === 'ok' ? (r.data as { version: string }).version : '')))
    expect(instances.size).toBe(1)
    await client.end()
    await a.stop({ clean: true })
    await b.stop({ clean: true })
    await mosquitto.stop()
  })
})
