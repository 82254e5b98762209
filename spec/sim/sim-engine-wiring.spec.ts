import enigma from 'enigma.js'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningSimulator } from '../../src/sim/index.js'
import { IDS, startTestSim, tempCertDir, udpReceiver, type UdpReceiver } from './sim-harness.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- enigma's APIs are generated from the schema at run time */
type Qix = any

const schema = createRequire(import.meta.url)('enigma.js/schemas/12.612.0.json') as object

let sim: RunningSimulator
let udp: UdpReceiver

beforeAll(async () => {
  udp = await udpReceiver()
  sim = await startTestSim(tempCertDir('wiring'), udp.port)
})
afterAll(async () => {
  await sim.close()
  await udp.close()
})

/** enigma.js configured the way Qlik documents it: certificate files, X-Qlik-User, host and port. */
async function withEngine<T>(path: string, fn: (global: Qix) => Promise<T>): Promise<T> {
  const s = sim.settings
  const session = enigma.create({
    schema,
    url: `wss://${s.host}:${s.enginePort}${path}`,
    createSocket: (url: string) =>
      new WebSocket(url, {
        cert: readFileSync(s.certFiles.client),
        key: readFileSync(s.certFiles.clientKey),
        ca: readFileSync(s.certFiles.root),
        headers: { 'X-Qlik-User': 'UserDirectory=Internal;UserId=sa_repository' },
        // ws's WebSocket lacks the DOM's dispatchEvent that enigma's typings ask for; it works at run time.
      }) as never,
  })
  try {
    return await fn(await session.open())
  } finally {
    await session.close()
  }
}

describe('the Engine face over the simulator model (QLIK-PROTOCOLS §4.1, §4.4)', () => {
  it('lists the fixture apps', async () => {
    const docs: Qix[] = await withEngine('', (g) => g.getDocList())
    expect(docs.map((d) => d.qDocId).sort()).toEqual(
      sim.model.apps
        .values()
        .map((a) => a.id)
        .sort(),
    )
  })

  it('serves the model objects: script, dimensions, bookmarks with selections', async () => {
    await withEngine(`/app/${IDS.salesApp}`, async (g) => {
      const app = await g.openDoc(IDS.salesApp, '', '', '', true)
      expect(await app.getScript()).toBe(sim.model.apps.get(IDS.salesApp)?.script)
      const dim = await app.getDimension('PLmpGj')
      expect((await dim.getProperties()).qDim.qFieldDefs).toEqual(['Country'])
      const bm = await app.getBookmark('a1b2c3')
      const layout = await bm.getLayout()
      expect(layout.qBookmark.qStateData[0].qFieldItems.map((f: Qix) => f.qDef.qName)).toEqual(['Country', 'Year'])
    })
  })

  it('a failing script reloads to false, sends no UDP and leaves lastReloadTime alone', async () => {
    const before = sim.model.apps.get(IDS.failingApp)?.lastReloadTime
    await withEngine(`/app/${IDS.failingApp}`, async (g) => {
      const app = await g.openDoc(IDS.failingApp, '', '', '', false)
      expect(await app.doReload(0, false)).toBe(false)
    })
    await expect(udp.next(150)).rejects.toThrow('no datagram')
    expect(sim.model.apps.get(IDS.failingApp)?.lastReloadTime).toBe(before)
  })

  it('a successful reload updates lastReloadTime only after DoSave (§4.4)', async () => {
    const before = sim.model.apps.get(IDS.salesApp)?.lastReloadTime
    await withEngine(`/app/${IDS.salesApp}`, async (g) => {
      const app = await g.openDoc(IDS.salesApp, '', '', '', false)
      expect(await app.doReload(0, false)).toBe(true)
      expect(sim.model.apps.get(IDS.salesApp)?.lastReloadTime).toBe(before)
      await app.doSave()
    })
    expect(sim.model.apps.get(IDS.salesApp)?.lastReloadTime).not.toBe(before)
    const calls = sim.recorder.list('engine').map((c) => c.method)
    expect(calls).toEqual(expect.arrayContaining(['OpenDoc', 'DoReload', 'DoSave']))
  })
})
