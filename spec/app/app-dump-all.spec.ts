import { createHash } from 'node:crypto'
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningSimulator } from '../../src/sim/index.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { connect, type TestClient } from '../helpers/client.js'
import { IDS, senseOverrides, startTestSim, tempCertDir } from '../sim/sim-harness.js'

const certDir = tempCertDir('app-dump-all')
let sim: RunningSimulator
let sb: TestApp
let client: TestClient

beforeAll(async () => {
  sim = await startTestSim(certDir, 9)
  sb = await startTestApp({
    overrides: {
      ...senseOverrides(sim, certDir),
      'capabilities.app.dumpKeep': 2,
    },
  })
  client = await connect(sb.mqttUrl)
})
afterAll(async () => {
  await client?.end()
  await sb?.stop({ clean: true })
  await sim?.close()
})

interface Run {
  snapshot: string
  dir: string
  apps: { id: string; file: string; sha256: string; status: string }[]
  failed: unknown[]
  pruned: string[]
}

async function dumpAll(body: Record<string, unknown> = {}): Promise<Run> {
  const res = await client.request<Run>('app/dump-all', { ...body, wait: true }, { timeoutMs: 20_000 })
  if (res.status !== 'ok') throw new Error(JSON.stringify(res))
  return res.data
}

describe('app/dump-all', () => {
  it('writes one JSON per app and a manifest whose checksums match the files', async () => {
    const run = await dumpAll()
    expect(run.failed).toEqual([])
    expect(run.apps.map((a) => a.id).sort()).toEqual(
      sim.model.apps
        .values()
        .map((a) => a.id)
        .sort(),
    )
    expect(run.dir).toBe(join(sb.dataDir, 'app-dumps', run.snapshot))
    const manifest = JSON.parse(await readFile(join(run.dir, 'manifest.json'), 'utf8')) as Run
    expect(manifest.apps).toEqual(run.apps)
    for (const app of manifest.apps) {
      const bytes = await readFile(join(run.dir, app.file))
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(app.sha256)
      expect(JSON.parse(bytes.toString()).appId).toBe(app.id)
    }
  })

  it('a second run skips unchanged apps; an app saved since is dumped again', async () => {
    const first = await dumpAll()
    const reload = await client.request<{ success: boolean }>(
      'app/reload',
      { appId: IDS.salesApp, wait: true },
      { timeoutMs: 10_000 },
    )
    expect(reload.status === 'ok' && reload.data.success).toBe(true)
    const dumpsBefore = sim.recorder.list('engine').filter((c) => c.method === 'GetScript').length
    const second = await dumpAll()
    const status = Object.fromEntries(second.apps.map((a) => [a.id, a.status]))
    expect(status[IDS.salesApp]).toBe('dumped')
    expect(Object.values(status).filter((s) => s === 'unchanged')).toHaveLength(second.apps.length - 1)
    // Only the changed app was read from the engine.
    expect(sim.recorder.list('engine').filter((c) => c.method === 'GetScript').length - dumpsBefore).toBe(1)
    const unchanged = second.apps.find((a) => a.status === 'unchanged')
    if (!unchanged) throw new Error('no unchanged app')
    expect(unchanged.sha256).toBe(first.apps.find((a) => a.id === unchanged.id)?.sha256)
    expect((await stat(join(second.dir, unchanged.file))).size).toBeGreaterThan(0)
  })

  it('keeps capabilities.app.dumpKeep snapshots; every kept snapshot is complete', async () => {
    await dumpAll()
    const last = await dumpAll()
    expect(last.pruned.length).toBeGreaterThan(0)
    const folders = (await readdir(join(sb.dataDir, 'app-dumps'))).sort()
    expect(folders).toHaveLength(2)
    expect(folders.at(-1)).toBe(last.snapshot)
    for (const folder of folders) {
      const manifest = JSON.parse(await readFile(join(sb.dataDir, 'app-dumps', folder, 'manifest.json'), 'utf8')) as Run
      for (const app of manifest.apps) await stat(join(sb.dataDir, 'app-dumps', folder, app.file))
    }
  })

  it('a filtered run dumps only the named apps', async () => {
    const run = await dumpAll({ appIds: [IDS.failingApp.toUpperCase()] })
    expect(run.apps.map((a) => a.id)).toEqual([IDS.failingApp])
  })
})
