import enigma from 'enigma.js'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import WebSocket from 'ws'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { RunningSimulator } from '../../src/sim/index.js'
import { IDS, startTestSim, tempCertDir } from './sim-harness.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- enigma's APIs are generated from the schema at run time */
type Qix = any

const schema = createRequire(import.meta.url)('enigma.js/schemas/12.612.0.json') as object
const USER = 'UserDirectory=Internal;UserId=sa_repository'

let sim: RunningSimulator
let originalScripts: Map<string, string>

beforeAll(async () => {
  sim = await startTestSim(tempCertDir('site-behaviour'), 9)
  originalScripts = new Map(sim.model.apps.values().map((a) => [a.id, a.script]))
})
afterAll(async () => {
  await sim.close()
})
afterEach(() => {
  sim.faults.engineReloadMs = -1
  for (const [id, script] of originalScripts) {
    const app = sim.model.apps.get(id)
    if (app) app.script = script
  }
})

interface Opened {
  global: Qix
  session: EnigmaJS.Session
  /** Every notification the engine sent (OnConnected first). */
  notifications: Record<string, unknown>[]
}

/** enigma.js as Qlik documents it; records the notification frames the engine pushes. */
async function open(path: string, user = USER): Promise<Opened> {
  const s = sim.settings
  const notifications: Record<string, unknown>[] = []
  const session = enigma.create({
    schema,
    url: `wss://${s.host}:${s.enginePort}${path}`,
    createSocket: (url: string) => {
      const ws = new WebSocket(url, {
        cert: readFileSync(s.certFiles.client),
        key: readFileSync(s.certFiles.clientKey),
        ca: readFileSync(s.certFiles.root),
        headers: { 'X-Qlik-User': user },
      })
      ws.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as Record<string, unknown>
        if (frame['id'] === undefined) notifications.push(frame)
      })
      return ws as never
    },
  })
  return { global: await session.open(), session, notifications }
}

/** The qSessionState of OnConnected; enigma resolves open() on the socket's open, before that frame. */
async function stateOf(o: Opened): Promise<string | undefined> {
  await expect.poll(() => o.notifications.length).toBeGreaterThan(0)
  return (o.notifications[0]?.['params'] as { qSessionState?: string } | undefined)?.qSessionState
}

/** Runs DoReload while polling GetProgress with its request id; returns the result and every line. */
async function reloadWithProgress(o: Opened, doc: Qix, mode: number, partial: boolean) {
  const reloading = doc.doReload(mode, partial)
  const requestId: number = reloading.requestId
  let persistent = ''
  let transient: string[] = []
  const errors: unknown[] = []
  let done = false
  const result = reloading.finally(() => {
    done = true
  })
  while (!done) {
    await new Promise((r) => setTimeout(r, 15))
    const p = await o.global.getProgress(requestId)
    persistent += p.qPersistentProgress
    if (p.qTransientProgress) transient = [...transient, p.qTransientProgress]
    errors.push(...p.qErrorData)
  }
  const last = await o.global.getProgress(requestId)
  persistent += last.qPersistentProgress
  return { ok: (await result) as boolean, lines: persistent.split('\n').filter(Boolean), transient, errors }
}

describe('engine sessions: a second socket of the same user and app attaches (real-site behaviour)', () => {
  it('answers SESSION_ATTACHED and OpenDoc 1002 on the second socket, SESSION_CREATED on the first', async () => {
    const first = await open(`/app/${IDS.salesApp}`)
    try {
      await first.global.openDoc(IDS.salesApp)
      const second = await open(`/app/${IDS.salesApp}`)
      try {
        expect(await stateOf(first)).toBe('SESSION_CREATED')
        expect(await stateOf(second)).toBe('SESSION_ATTACHED')
        await expect(second.global.openDoc(IDS.salesApp)).rejects.toMatchObject({ code: 1002 })
      } finally {
        await second.session.close()
      }
    } finally {
      await first.session.close()
    }
  })

  it('the user header spelling does not matter: same directory and id attach', async () => {
    const first = await open('/app/engineData', 'UserDirectory=INTERNAL; UserId=SA_Repository')
    const second = await open('/app/engineData', 'userdirectory=internal;userid=sa_repository')
    try {
      expect(await stateOf(second)).toBe('SESSION_ATTACHED')
    } finally {
      await second.session.close()
      await first.session.close()
    }
  })

  it('another user, another app, or a distinct /identity/<id> gets its own session', async () => {
    const first = await open(`/app/${IDS.salesApp}`)
    try {
      await first.global.openDoc(IDS.salesApp)
      const others = await Promise.all([
        open(`/app/${IDS.salesApp}`, 'UserDirectory=LAB;UserId=goran'),
        open(`/app/${IDS.failingApp}`),
        open(`/app/${IDS.salesApp}/identity/reload-1`),
      ])
      try {
        expect(await Promise.all(others.map(stateOf))).toEqual([
          'SESSION_CREATED',
          'SESSION_CREATED',
          'SESSION_CREATED',
        ])
        const doc = await others[2]?.global.openDoc(IDS.salesApp)
        expect(doc.id).toBe(IDS.salesApp)
      } finally {
        await Promise.all(others.map((o) => o.session.close()))
      }
    } finally {
      await first.session.close()
    }
  })

  it('once the first socket closed, a new socket gets a fresh session and can open the app', async () => {
    const first = await open(`/app/${IDS.salesApp}`)
    await first.global.openDoc(IDS.salesApp)
    await first.session.close()
    const again = await open(`/app/${IDS.salesApp}`)
    try {
      expect(await stateOf(again)).toBe('SESSION_CREATED')
      expect((await again.global.openDoc(IDS.salesApp)).id).toBe(IDS.salesApp)
    } finally {
      await again.session.close()
    }
  })
})

describe('reload progress and partial reloads', () => {
  it('persistent progress names each table and its source and adds "Lines fetched" lines', async () => {
    sim.faults.engineReloadMs = 300
    const o = await open(`/app/${IDS.salesApp}`)
    try {
      const doc = await o.global.openDoc(IDS.salesApp)
      const { ok, lines, transient } = await reloadWithProgress(o, doc, 0, false)
      expect(ok).toBe(true)
      const sources = lines.filter((l) => l.includes(' << '))
      expect(sources).toEqual([
        'Sales << sales_transactions',
        'Customers << customers',
        'Regions << INL',
        'SalesSummary << Sales',
      ])
      expect(lines.filter((l) => /^Lines fetched: [\d,]+$/.test(l))).toHaveLength(4)
      expect(lines.indexOf('Sales << sales_transactions')).toBeLessThan(lines.indexOf('Customers << customers'))
      expect(transient.some((t) => t.startsWith('Lines fetched: '))).toBe(true)
    } finally {
      await o.session.close()
    }
  })

  it('shows the error in the progress when the reload fails', async () => {
    const o = await open(`/app/${IDS.failingApp}`)
    try {
      const doc = await o.global.openDoc(IDS.failingApp)
      const { ok, lines, errors } = await reloadWithProgress(o, doc, 0, false)
      expect(ok).toBe(false)
      expect(lines).toContain(
        "Error: Cannot open file: 'lib://DataFiles/sales_2021.qvd' (Connector error: File not found)",
      )
      expect(lines.at(-1)).toBe('Execution Failed')
      // The engine repeats the whole error list on each poll.
      expect(errors.length).toBeGreaterThan(0)
      expect(errors[0]).toMatchObject({ qErrorString: expect.stringContaining('sales_2021.qvd') })
    } finally {
      await o.session.close()
    }
  })

  it('a partial reload runs only ADD/REPLACE/MERGE loads: the failing plain LOAD is skipped', async () => {
    const o = await open(`/app/${IDS.failingApp}`)
    try {
      const doc = await o.global.openDoc(IDS.failingApp)
      expect((await reloadWithProgress(o, doc, 0, false)).ok).toBe(false)
      const partial = await reloadWithProgress(o, doc, 0, true)
      expect(partial.ok).toBe(true)
      expect(partial.lines.filter((l) => l.includes(' << '))).toEqual([])
    } finally {
      await o.session.close()
    }
  })

  it('a partial reload runs ADD, REPLACE and MERGE loads; a full one skips ADD ONLY', async () => {
    const app = sim.model.apps.get(IDS.salesApp)
    if (!app) throw new Error('fixture app missing')
    app.script = [
      'Base: LOAD * FROM [lib://DataFiles/base.qvd] (qvd);',
      'Delta: ADD LOAD * FROM [lib://DataFiles/delta.qvd] (qvd);',
      'Fresh: REPLACE LOAD * FROM [lib://DataFiles/fresh.qvd] (qvd);',
      'Merged: MERGE ON OrderID LOAD * FROM [lib://DataFiles/changes.qvd] (qvd);',
      'OnlyPartial: ADD ONLY LOAD * FROM [lib://DataFiles/only.qvd] (qvd);',
    ].join('\n')
    const o = await open(`/app/${IDS.salesApp}`)
    try {
      const doc = await o.global.openDoc(IDS.salesApp)
      const partial = await reloadWithProgress(o, doc, 0, true)
      expect(partial.lines.filter((l) => l.includes(' << '))).toEqual([
        'Delta << delta',
        'Fresh << fresh',
        'Merged << changes',
        'OnlyPartial << only',
      ])
      const full = await reloadWithProgress(o, doc, 0, false)
      expect(full.lines.filter((l) => l.includes(' << '))).toEqual([
        'Base << base',
        'Delta << delta',
        'Fresh << fresh',
        'Merged << changes',
      ])
    } finally {
      await o.session.close()
    }
  })

  it('CancelReload stops a running reload: DoReload answers false and the progress says it was aborted', async () => {
    sim.faults.engineReloadMs = 3_000
    const o = await open(`/app/${IDS.salesApp}`)
    try {
      const doc = await o.global.openDoc(IDS.salesApp)
      // Saves whatever earlier specs reloaded, so only this reload could move lastReloadTime.
      await doc.doSave()
      const before = sim.model.apps.get(IDS.salesApp)?.lastReloadTime
      const started = Date.now()
      const reloading = reloadWithProgress(o, doc, 0, false)
      await new Promise((r) => setTimeout(r, 200))
      await o.global.cancelReload()
      const { ok, lines } = await reloading
      expect(ok).toBe(false)
      expect(Date.now() - started).toBeLessThan(2_000)
      expect(lines.at(-1)).toBe('Execution aborted by user')
      await doc.doSave()
      expect(sim.model.apps.get(IDS.salesApp)?.lastReloadTime).toBe(before)
    } finally {
      await o.session.close()
    }
  })
})

describe('data model reads: GetTablesAndKeys, GetField, Evaluate', () => {
  it('answers tables with their fields and the keys shared between them', async () => {
    const o = await open(`/app/${IDS.salesApp}`)
    try {
      const doc = await o.global.openDoc(IDS.salesApp, '', '', '', true)
      const { qtr, qk } = await doc.getTablesAndKeys({ qcx: 1000, qcy: 1000 }, { qcx: 0, qcy: 0 }, 30, true, false)
      const names = qtr.map((t: Qix) => t.qName)
      expect(names.length).toBeGreaterThan(0)
      for (const t of qtr) {
        expect(t).toMatchObject({
          qName: expect.any(String),
          qNoOfRows: expect.any(Number),
          qFields: expect.any(Array),
        })
      }
      for (const key of qk) {
        expect(key.qTables.length).toBeGreaterThan(1)
        for (const table of key.qTables) expect(names).toContain(table)
      }
    } finally {
      await o.session.close()
    }
  })

  it('GetField gives a Field with the field list cardinal; Evaluate answers data-model functions', async () => {
    const o = await open(`/app/${IDS.salesApp}`)
    try {
      const doc = await o.global.openDoc(IDS.salesApp, '', '', '', true)
      const list = await doc.createSessionObject({
        qInfo: { qType: 'FieldList' },
        qFieldListDef: { qShowSystem: false, qShowSrcTables: true },
      })
      const items: Qix[] = (await list.getLayout()).qFieldList.qItems
      const withTable = items.find((f) => (f.qSrcTables ?? []).length > 0 && f.qCardinal > 0)
      expect(withTable).toBeDefined()
      const field = await doc.getField(withTable.qName)
      expect(await field.getCardinal()).toBe(withTable.qCardinal)
      expect(await doc.evaluate(`FieldValueCount('${withTable.qName}')`)).toBe(String(withTable.qCardinal))
      expect(await doc.evaluate('=DocumentTitle()')).toBe(sim.model.apps.get(IDS.salesApp)?.name)
      expect(Number(await doc.evaluate('NoOfTables()'))).toBeGreaterThan(0)
      expect(await doc.evaluate('1+')).toBe('-')
      await expect(doc.getField('NoSuchField')).rejects.toThrow(/not found/i)
    } finally {
      await o.session.close()
    }
  })
})
