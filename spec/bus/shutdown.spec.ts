import { describe, expect, it } from 'vitest'
import { modules } from '../../src/capabilities/index.js'
import { startTestApp } from '../helpers/app.js'
import { connect } from '../helpers/client.js'
import { testModule } from '../helpers/slow-module.js'

describe('graceful shutdown', () => {
  it('lets an in-flight request answer before the broker closes', async () => {
    const sb = await startTestApp({ modules: [...modules, testModule] })
    const client = await connect(sb.mqttUrl)
    const pending = client.request('test/sleep', { ms: 400, transaction: 'inflight' })
    await new Promise((r) => setTimeout(r, 100))
    const stopped = sb.stop({ clean: true })
    expect(await pending).toEqual({ transaction: 'inflight', status: 'ok', data: { slept: 400 } })
    await stopped
    await client.end().catch(() => undefined)
  })
})
