import { describe, expect, it } from 'vitest'
import { startTestApp } from '../helpers/app.js'
import { connect } from '../helpers/client.js'

describe('KV mirror reconciliation at start-up', () => {
  it(
    'clears retained copies of keys the store does not hold (e.g. a crash between a delete and its ' + 'clear)',
    async () => {
      const first = await startTestApp()
      const c = await connect(first.mqttUrl)
      expect((await c.request('kv/set', { namespace: 'real', key: 'k', value: 'v' })).status).toBe('ok')
      await c.end()
      // A stale mirror message, as a SIGKILL between the store's delete and the retained clear leaves it.
      await first.app.bus.publish(
        'sense/state/kv/ghost/gone',
        { namespace: 'ghost', key: 'gone', value: 'x', expiresAt: null, updatedAt: new Date().toISOString() },
        { retain: true },
      )
      const dataDir = first.dataDir
      await first.stop()

      const again = await startTestApp({ dataDir })
      const reader = await connect(again.mqttUrl)
      const seen = await reader.collect('sense/state/kv/#')
      await expect.poll(() => seen.map((m) => m.topic)).toContain('sense/state/kv/real/k')
      await new Promise((r) => setTimeout(r, 250))
      expect(seen.map((m) => m.topic)).toEqual(['sense/state/kv/real/k'])
      await reader.end()
      await again.stop({ clean: true })
    },
  )
})
