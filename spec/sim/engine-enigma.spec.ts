import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FAILING_APP_ID, SALES_APP_ID } from './engine-fixture.js'
import { enigmaSession, QLIK_USER, startTestFace, type TestFace } from './engine-harness.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- enigma's APIs are generated from the schema at run time */
type Qix = any

let t: TestFace
beforeAll(async () => {
  t = await startTestFace()
})
afterAll(async () => {
  await t.close()
})

async function withSession<T>(path: string, fn: (global: Qix) => Promise<T>): Promise<T> {
  const session = enigmaSession(t, path)
  try {
    return await fn(await session.open())
  } finally {
    await session.close()
  }
}

describe('Engine face: enigma.js, the official client', () => {
  it('lists apps with GetDocList on the root path (QLIK-PROTOCOLS §2.5.3)', async () => {
    const docs: Qix = await withSession('', (global) => global.getDocList())
    expect(docs.map((d: Qix) => [d.qDocId, d.qDocName])).toEqual([
      [SALES_APP_ID, 'Sales Dashboard'],
      [FAILING_APP_ID, 'Test failing reloads 2'],
    ])
    expect(docs[0]).toMatchObject({
      qFileSize: 0,
      qFileTime: 0,
      qConnectedUsers: 0,
      qTitle: 'Sales Dashboard',
      qThumbnail: { qUrl: '' },
    })
  })

  it('opens an app as Doc handle 1 and reports the engine version', async () => {
    await withSession(`/app/${SALES_APP_ID}`, async (global) => {
      expect(await global.engineVersion()).toEqual({ qComponentVersion: '12.612.0' })
      const app = await global.openDoc(SALES_APP_ID, '', '', '', false)
      expect([app.type, app.handle, app.id]).toEqual(['Doc', 1, SALES_APP_ID])
      const active = await global.getActiveDoc()
      expect(active).toBe(app)
      expect(await app.getAppLayout()).toMatchObject({
        qTitle: 'Sales Dashboard',
        qFileName: SALES_APP_ID,
        qIsOpenedWithoutData: false,
      })
      const infos = await app.getAllInfos()
      expect(infos).toContainEqual({ qId: 'jqPnZX', qType: 'sheet' })
      expect(infos).toContainEqual({ qId: 'pRtAk', qType: 'barchart' })
    })
  })

  it('reloads with qMode/qPartial, answers qReturn per script outcome, and saves (§2.5.1)', async () => {
    await withSession(`/app/${SALES_APP_ID}`, async (global) => {
      const app = await global.openDoc(SALES_APP_ID, '', '', '', false)
      expect(await app.doReload(0, true)).toBe(true)
      expect(await app.doSave()).toEqual({})
    })
    expect(t.backend.reloads.at(-1)).toEqual({
      appId: SALES_APP_ID,
      opts: { mode: 0, partial: true, debug: false, user: QLIK_USER },
    })
    expect(t.backend.saved).toContain(SALES_APP_ID)

    await withSession(`/app/${FAILING_APP_ID}`, async (global) => {
      const app = await global.openDoc(FAILING_APP_ID, '', '', '', false)
      expect(await app.doReload(0, false)).toBe(false)
      expect(await app.doReload(2, false)).toBe(true)
      const ex = await app.doReloadEx({ qMode: 1, qPartial: false, qDebug: false, qReloadId: '' })
      expect(ex).toMatchObject({ qSuccess: false, qEndedWithMemoryConstraint: false })
      expect(ex.qScriptLogFile).toMatch(new RegExp(`Script\\\\${FAILING_APP_ID}\\.\\d{8}T\\d{6}\\.log$`))
    })
  })

  it('reports progress of an in-flight DoReload by request id while other calls keep flowing', async () => {
    t.backend.reloadStepMs = 150
    try {
      await withSession(`/app/${SALES_APP_ID}`, async (global) => {
        const app = await global.openDoc(SALES_APP_ID, '', '', '', false)
        let reloadDone = false
        const reload = app.doReload(0, false).then((ok: boolean) => {
          reloadDone = true
          return ok
        })
        // §4.4: DoReload must not block the socket.
        expect(await app.getScript()).toContain('Sales:')
        expect(reloadDone).toBe(false)
        let persistent = ''
        let sawRunning = false
        for (let i = 0; i < 100 && !reloadDone; i++) {
          const p = await global.getProgress(reload.requestId ?? 0)
          persistent += p.qPersistentProgress
          if (p.qStarted && !p.qFinished) sawRunning = true
          await new Promise((r) => setTimeout(r, 40))
        }
        expect(await reload).toBe(true)
        const last = await global.getProgress(0)
        persistent += last.qPersistentProgress
        expect(last).toMatchObject({ qStarted: true, qFinished: true, qErrorData: [] })
        expect(sawRunning).toBe(true)
        expect(persistent).toContain('Sales << sales_2021\n')
      })
    } finally {
      t.backend.reloadStepMs = 60
    }
  })

  it('serves every call of the dump flow in parallel on /app/engineData (§2.5.2)', async () => {
    await withSession('/app/engineData', async (global) => {
      const app = await global.openDoc(SALES_APP_ID, '', '', '', true)
      const appObjectList = async (type: string) => {
        const list = await app.createSessionObject({
          qAppObjectListDef: { qType: type, qData: { id: '/qInfo/qId' } },
          qInfo: { qId: `${type}List`, qType: `${type}List` },
          qMetaDef: {},
          qExtendsId: '',
        })
        const layout = await list.getLayout()
        return Promise.all(
          layout.qAppObjectList.qItems.map(async (item: Qix) =>
            (await app.getObject(item.qInfo.qId)).getFullPropertyTree(),
          ),
        )
      }
      const library = async (def: string, qType: string, qId: string, listKey: string, getter: string) => {
        const list = await app.createSessionObject({
          [def]: { qType, qData: { info: '/qDimInfos' }, qMeta: {} },
          qInfo: { qId, qType: qId },
        })
        const layout = await list.getLayout()
        return {
          list,
          items: await Promise.all(layout[listKey].qItems.map(async (item: Qix) => app[getter](item.qInfo.qId))),
        }
      }
      const [
        properties,
        loadScript,
        lineage,
        sheets,
        stories,
        masterobjects,
        appprops,
        dims,
        measures,
        bookmarks,
        snapshots,
      ] = await Promise.all([
        app.getAppProperties(),
        app.getScript(),
        app.getLineage(),
        appObjectList('sheet'),
        appObjectList('story'),
        appObjectList('masterobject'),
        appObjectList('appprops'),
        library('qDimensionListDef', 'dimension', 'DimensionList', 'qDimensionList', 'getDimension'),
        library('qMeasureListDef', 'measure', 'MeasureList', 'qMeasureList', 'getMeasure'),
        library('qBookmarkListDef', 'bookmark', 'BookmarkList', 'qBookmarkList', 'getBookmark'),
        library('qBookmarkListDef', 'snapshot', 'BookmarkList', 'qBookmarkList', 'getBookmark'),
      ])
      expect(properties).toMatchObject({ qTitle: 'Sales Dashboard' })
      expect(loadScript).toContain('LOAD * FROM')
      expect(lineage[0]).toEqual({
        qDiscriminator: 'lib://DataFiles/sales_2021.qvd',
        qStatement: 'LOAD * FROM [lib://DataFiles/sales_2021.qvd] (qvd)',
      })
      expect(sheets.map((s: Qix) => s.qProperty.qInfo.qId)).toEqual(['jqPnZX', 'kLmNoP'])
      expect(sheets[0].qChildren[0]).toEqual({
        qProperty: expect.objectContaining({ visualization: 'barchart' }),
        qChildren: [],
        qEmbeddedSnapshotRef: null,
      })
      expect([stories.length, masterobjects.length, appprops.length]).toEqual([1, 1, 1])
      expect(await dims.items[0].getProperties()).toMatchObject({
        qInfo: { qId: 'PLmpGj', qType: 'dimension' },
        qDim: { qFieldDefs: ['Country'] },
      })
      expect((await dims.list.getLayout()).qDimensionList.qItems[0].qData).toEqual({
        info: [{ qName: 'Country', qTags: [] }],
      })
      expect(await measures.items[0].getProperties()).toMatchObject({ qMeasure: { qDef: 'Sum(Sales)' } })

      // §2.5.2 step 6: two BookmarkList session objects coexist with distinct ids and handles.
      expect(bookmarks.list.id).toBe('BookmarkList')
      expect(snapshots.list.id).not.toBe('BookmarkList')
      expect(snapshots.list.handle).not.toBe(bookmarks.list.handle)
      expect(bookmarks.items.map((b: Qix) => b.id)).toEqual(['a1b2c3'])
      expect(snapshots.items.map((b: Qix) => b.id)).toEqual(['snap01'])
      const bookmark = bookmarks.items[0]
      expect(bookmark.type).toBe('GenericBookmark')
      expect((await bookmark.getLayout()).qBookmark.qStateData[0].qStateName).toBe('$')
      expect(await bookmark.getProperties()).toMatchObject({ qInfo: { qId: 'a1b2c3', qType: 'bookmark' } })

      const media = await app.createSessionObject({
        qInfo: { qId: 'mediaList', qType: 'MediaList' },
        qMediaListDef: {},
      })
      expect((await media.getLayout()).qMediaList.qItems.map((m: Qix) => m.qUrlDef)).toEqual([
        '/media/Logo.png',
        '/content/Default/bg.png',
      ])

      const fields = await app.createSessionObject({
        qInfo: { qId: 'FieldList', qType: 'FieldList' },
        qFieldListDef: { qShowSystem: true, qShowHidden: true, qShowSrcTables: true, qShowSemantic: true },
      })
      expect((await fields.getLayout()).qFieldList.qItems.map((f: Qix) => f.qName)).toEqual(['Country', '$Field'])

      const connections = await app.getConnections()
      expect(await app.getConnection(connections[0].qId)).toMatchObject({ qName: 'DataFiles', qType: 'folder' })

      const variables = await app.createSessionObject({
        qInfo: { qId: 'VariableList', qType: 'VariableList' },
        qVariableListDef: {
          qType: 'variable',
          qShowReserved: true,
          qShowConfig: true,
          qData: { info: '/qDimInfos' },
          qMeta: {},
        },
      })
      const items = (await variables.getLayout()).qVariableList.qItems
      expect(items.map((v: Qix) => [v.qName, v.qIsScriptCreated, v.qIsReserved])).toEqual([
        ['vCurrentYear', true, undefined],
        ['ThousandSep', true, true],
      ])
      const variable = await app.getVariableById(items[0].qInfo.qId)
      expect(variable.type).toBe('GenericVariable')
      expect(await variable.getProperties()).toMatchObject({ qName: 'vCurrentYear', qDefinition: '=Year(Today())' })
    })
  })

  it('answers GetObject for an unknown id with a null reference, which enigma reports as not found', async () => {
    await withSession('/app/engineData', async (global) => {
      const app = await global.openDoc(SALES_APP_ID, '', '', '', true)
      await expect(app.getObject('nope')).rejects.toMatchObject({ code: -2 })
      await expect(app.getDimension('nope')).rejects.toMatchObject({ code: -2 })
    })
  })

  it('never reuses a handle and lets session objects die with the socket (§2.6)', async () => {
    await withSession('/app/engineData', async (global) => {
      const app = await global.openDoc(SALES_APP_ID, '', '', '', true)
      const first = await app.createSessionObject({ qInfo: { qId: 'Temp', qType: 'Temp' } })
      expect(await app.destroySessionObject('Temp')).toBe(true)
      const second = await app.createSessionObject({ qInfo: { qId: 'Temp', qType: 'Temp' } })
      expect(second.id).toBe('Temp')
      expect(second.handle).toBeGreaterThan(first.handle)
    })
    await withSession('/app/engineData', async (global) => {
      const app = await global.openDoc(SALES_APP_ID, '', '', '', true)
      await expect(app.getObject('Temp')).rejects.toMatchObject({ code: -2 })
    })
  })

  it('still works for enigma when the delta-response fault is on (§2.3.4)', async () => {
    t.backend.faultFlags = { deltaResponses: true }
    try {
      await withSession(`/app/${SALES_APP_ID}`, async (global) => {
        expect((await global.getDocList()).length).toBe(2)
        const app = await global.openDoc(SALES_APP_ID, '', '', '', true)
        expect(await app.getScript()).toContain('Sales:')
        expect(await app.getAppProperties()).toMatchObject({ qTitle: 'Sales Dashboard' })
        expect(await app.doReload(0, false)).toBe(true)
      })
    } finally {
      t.backend.faultFlags = {}
    }
  })
})
