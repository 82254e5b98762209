import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Type } from '@sinclair/typebox'
import { Level } from 'level'
import { describe, expect, it } from 'vitest'
import { modules } from '../../src/capabilities/index.js'
import { defineCapability, defineModule } from '../../src/core/capability.js'
import { closed, section } from '../../src/core/schema.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { connect } from '../helpers/client.js'
import { startMosquitto } from '../helpers/mosquitto.js'
import { data, errorCode, mirrorTopic, retainedUnder } from './kv-helpers.js'

/**
 * A module set up before kv: it subscribes to the mirror's topics on the bus, so it sees every
 * retained message the mirror publishes while it rebuilds at start-up (a late subscriber could not).
 */
function mirrorRecorder() {
  const seen: Array<{ topic: string; payload: string }> = []
  const module = defineModule({
    area: 'recorder',
    summary: 'records mirror publishes during start-up',
    configSchema: section({}),
    capabilities: [
      defineCapability({
        name: 'recorder/noop',
        summary: 'nothing',
        request: closed({}),
        result: Type.Object({}),
        handle: async () => ({}),
      }),
    ],
    async setup({ bus }) {
      await bus.subscribe('sense/state/kv/#', (m) => {
        seen.push({ topic: m.topic, payload: m.payload.toString() })
      })
      return undefined
    },
  })
  return { module, seen }
}

describe('kv at start-up', () => {
  /** 40 unchanged keys and one whose broker copy drifted, plus a copy of a key the store never held. */
  async function seedDrift(first: TestApp): Promise<void> {
    const c = await connect(first.mqttUrl)
    for (let i = 0; i < 40; i++) data(await c.request('kv/set', { namespace: 'same', key: `k${i}`, value: `v${i}` }))
    data(await c.request('kv/set', { namespace: 'drift', key: 'k', value: 'stored' }))
    await c.end()
    // Drift the broker's copies from the store, as a crash between a write and its mirror would.
    await first.app.bus.publish(
      mirrorTopic('drift', 'k'),
      { namespace: 'drift', key: 'k', value: 'stale', expiresAt: null, updatedAt: new Date(0).toISOString() },
      { retain: true },
    )
    await first.app.bus.publish(
      mirrorTopic('ghost', 'gone'),
      { namespace: 'ghost', key: 'gone', value: 'x', expiresAt: null, updatedAt: new Date(0).toISOString() },
      { retain: true },
    )
  }

  /** What a fresh subscriber to the mirror gets: exactly the store's 41 keys, the drifted one repaired. */
  async function expectMirrorMatchesStore(url: string): Promise<void> {
    const retained = await retainedUnder(url, 'sense/state/kv/#')
    expect(retained.length).toBe(41)
    expect(retained.map((m) => m.topic)).not.toContain(mirrorTopic('ghost', 'gone'))
    const drift = retained.find((m) => m.topic === mirrorTopic('drift', 'k'))
    expect(JSON.parse(drift!.payload.toString())).toMatchObject({ value: 'stored' })
  }

  it('on an external broker, the rebuild republishes only what differs from the store, never unchanged', async () => {
    const mosquitto = await startMosquitto()
    try {
      const first = await startTestApp({ brokerUrl: mosquitto.url })
      await seedDrift(first)
      const dataDir = first.dataDir
      await first.stop()
      console.log('DEBUG', (await retainedUnder(mosquitto.url, 'sense/state/kv/#')).length)

      const recorder = mirrorRecorder()
      const again = await startTestApp({ dataDir, brokerUrl: mosquitto.url, modules: [recorder.module, ...modules] })
      try {
        // The 40 unchanged keys are left alone; the drifted copy is repaired and the ghost cleared.
        expect(recorder.seen.map((m) => m.topic).sort()).toEqual([
          mirrorTopic('drift', 'k'),
          mirrorTopic('ghost', 'gone'),
        ])
        expect(recorder.seen.find((m) => m.topic === mirrorTopic('ghost', 'gone'))!.payload).toBe('')
        await expectMirrorMatchesStore(again.mqttUrl)
      } finally {
        await again.stop({ clean: true })
      }
    } finally {
      await mosquitto.stop()
    }
  })

  it('on the embedded broker, the copies are set from the store at start-up: nothing is republished', async () => {
    const first = await startTestApp()
    await seedDrift(first)
    const dataDir = first.dataDir
    await first.stop()

    const recorder = mirrorRecorder()
    const again = await startTestApp({ dataDir, modules: [recorder.module, ...modules] })
    try {
      expect(recorder.seen).toEqual([])
      await expectMirrorMatchesStore(again.mqttUrl)
      // Live changes still reach subscribers and later ones.
      const c = await connect(again.mqttUrl)
      data(await c.request('kv/set', { namespace: 'same', key: 'k0', value: 'changed' }))
      data(await c.request('kv/delete', { namespace: 'same', key: 'k1' }))
      await c.end()
      expect(recorder.seen.map((m) => m.topic)).toEqual([mirrorTopic('same', 'k0'), mirrorTopic('same', 'k1')])
      const later = await retainedUnder(again.mqttUrl, 'sense/state/kv/same/#')
      expect(later.length).toBe(39)
      expect(JSON.parse(later.find((m) => m.topic === mirrorTopic('same', 'k0'))!.payload.toString())).toMatchObject({
        value: 'changed',
      })
    } finally {
      await again.stop()
    }
    // The broker's own database no longer keeps a second copy of every key (it did before this build).
    const mqttDb = new Level<string, Buffer>(join(dataDir, 'mqtt'), { valueEncoding: 'buffer' })
    await mqttDb.open()
    let entries = 0
    for await (const _ of mqttDb.keys()) entries++
    await mqttDb.close()
    expect(entries).toBeLessThan(41)
  })

  // The deadline leaves a slow start-up time to read the key first, so the spec runs long.
  it('imports the key-value store of an earlier build (<dataDir>/kv): values, namespaces and deadlines', {
    timeout: 60_000,
  }, async () => {
    const seed = await startTestApp()
    const dataDir = seed.dataDir
    await seed.stop()
    // The old layout: its own LevelDB, namespaces under n\0, pairs under k\0<ns>\0<key> as JSON.
    const old = new Level<string, string>(join(dataDir, 'kv'), { valueEncoding: 'utf8' })
    await old.open()
    const now = Date.now()
    await old.batch([
      { type: 'put', key: 'n\u0000etl', value: JSON.stringify({ createdAt: now - 10_000 }) },
      { type: 'put', key: 'n\u0000empty', value: JSON.stringify({ createdAt: now - 10_000 }) },
      { type: 'put', key: 'k\u0000etl\u0000lastRun', value: JSON.stringify({ value: '2026-11-28', updatedAt: now }) },
      {
        type: 'put',
        key: 'k\u0000etl\u0000soon',
        value: JSON.stringify({ value: 'brief', expiresAt: now + 8000, updatedAt: now }),
      },
      {
        type: 'put',
        key: 'k\u0000etl\u0000past',
        value: JSON.stringify({ value: 'gone', expiresAt: now - 1, updatedAt: now - 5000 }),
      },
    ])
    await old.close()

    const sb = await startTestApp({ dataDir })
    const c = await connect(sb.mqttUrl)
    try {
      expect(data(await c.request<{ namespaces: string[] }>('kv/namespaces', {})).namespaces).toEqual(['empty', 'etl'])
      expect(data(await c.request('kv/get', { namespace: 'etl', key: 'lastRun' }))).toMatchObject({
        value: '2026-11-28',
        expiresAt: null,
      })
      expect(data(await c.request('kv/get', { namespace: 'etl', key: 'soon' }))).toMatchObject({
        value: 'brief',
        expiresAt: new Date(now + 8000).toISOString(),
      })
      expect(errorCode(await c.request('kv/get', { namespace: 'etl', key: 'past' }))).toBe('NOT_FOUND')
      // Mirrored like any key, and the deadline is indexed: it goes at its time, mirror cleared, no read needed.
      const watch = await connect(sb.mqttUrl)
      const seen = await watch.collect(mirrorTopic('etl', 'soon'))
      await expect.poll(() => seen.some((m) => m.payload === ''), { timeout: 20_000 }).toBe(true)
      await watch.end()
      expect(errorCode(await c.request('kv/get', { namespace: 'etl', key: 'soon' }))).toBe('NOT_FOUND')
      // The old folder is kept under another name, so a restart does not import it again.
      const names = await readdir(dataDir)
      expect(names).not.toContain('kv')
      expect(names.some((n) => n.startsWith('kv.imported-'))).toBe(true)
    } finally {
      await c.end()
      await sb.stop({ clean: true })
    }
  })
})
