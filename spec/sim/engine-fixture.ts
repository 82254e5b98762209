import { setTimeout as sleep } from 'node:timers/promises'
import type {
  EngineApp,
  EngineBackend,
  EngineCallRecord,
  EngineFaults,
  EngineReloadOptions,
  EngineReloadProgress,
  EngineReloadResult,
} from '../../src/sim/engine/backend.js'

export const SALES_APP_ID = 'e7af59a0-c243-480d-9571-08727551a66f'
export const FAILING_APP_ID = '0c9a4a1e-5b5f-4a0e-9d43-3f2f7a8b1c02'

/** An in-memory EngineBackend for the Engine face specs: two apps, scripted reload outcomes. */
export class MemoryEngineBackend implements EngineBackend {
  readonly apps: EngineApp[] = [salesApp(), failingApp()]
  readonly calls: EngineCallRecord[] = []
  readonly reloads: { appId: string; opts: EngineReloadOptions }[] = []
  readonly saved: string[] = []
  faultFlags: EngineFaults = {}
  reloadStepMs = 60

  listApps(): EngineApp[] {
    return this.apps
  }

  getApp(id: string): EngineApp | undefined {
    return this.apps.find((a) => a.id === id)
  }

  async reload(
    appId: string,
    opts: EngineReloadOptions,
    onProgress?: (p: EngineReloadProgress) => void,
  ): Promise<EngineReloadResult> {
    // The cancel signal is the face's plumbing, not something a spec compares.
    const { signal: _signal, ...recorded } = opts
    this.reloads.push({ appId, opts: recorded })
    const app = this.getApp(appId)
    const fails = app?.script.includes('FAIL_SIM;') === true && opts.mode !== 2
    const steps: EngineReloadProgress[] = [
      { persistent: 'Sales << sales_2021' },
      { transient: 'Lines fetched: 120,000' },
      fails
        ? { error: { qErrorString: 'FAIL_SIM;', qLine: '3', qErrorDataCode: 1 } }
        : { persistent: 'Lines fetched: 120,000' },
    ]
    for (const step of steps) {
      await sleep(this.reloadStepMs)
      onProgress?.(step)
    }
    const log = fails
      ? 'Error: FAIL_SIM\r\nExecution Failed\r\n'
      : `${opts.partial ? 'Partial reload\r\n' : ''}Execution finished.\r\n`
    return { success: !fails, scriptLog: log }
  }

  save(appId: string): void {
    this.saved.push(appId)
    const app = this.getApp(appId)
    if (app !== undefined) app.lastReloadTime = '2026-01-01T00:00:00.000Z'
  }

  setScript(appId: string, script: string): void {
    const app = this.getApp(appId)
    if (app !== undefined) app.script = script
  }

  record(call: EngineCallRecord): void {
    this.calls.push(call)
  }

  faults(): EngineFaults {
    return this.faultFlags
  }
}

const meta = (title: string) => ({ title, description: '', tags: [] })

function salesApp(): EngineApp {
  const chart = {
    qProperty: {
      qInfo: { qId: 'pRtAk', qType: 'barchart' },
      visualization: 'barchart',
      qHyperCubeDef: { qDimensions: [{ qLibraryId: 'PLmpGj' }], qMeasures: [{ qLibraryId: 'mTrKZA' }] },
    },
    qChildren: [],
  }
  return {
    id: SALES_APP_ID,
    name: 'Sales Dashboard',
    meta: {
      createdDate: '2021-02-10T11:01:22.345Z',
      modifiedDate: '2021-02-16T08:24:59.300Z',
      published: false,
      stream: null,
    },
    lastReloadTime: '2021-02-15T22:00:12.102Z',
    properties: {
      qTitle: 'Sales Dashboard',
      qLastReloadTime: '2021-02-15T22:00:12.102Z',
      qThumbnail: { qUrl: '' },
      qHasSectionAccess: false,
    },
    script: "SET ThousandSep=',';\nSales:\nLOAD * FROM [lib://DataFiles/sales_2021.qvd] (qvd);\n",
    lineage: [
      {
        qDiscriminator: 'lib://DataFiles/sales_2021.qvd',
        qStatement: 'LOAD * FROM [lib://DataFiles/sales_2021.qvd] (qvd)',
      },
      { qDiscriminator: 'RESIDENT', qStatement: '' },
    ],
    sheets: [
      {
        qProperty: {
          qInfo: { qId: 'jqPnZX', qType: 'sheet' },
          qMetaDef: { title: 'Overview', description: '' },
          rank: 0,
          cells: [{ name: 'pRtAk', type: 'barchart' }],
        },
        qChildren: [chart],
      },
      {
        qProperty: { qInfo: { qId: 'kLmNoP', qType: 'sheet' }, qMetaDef: { title: 'Details', description: '' } },
        qChildren: [],
      },
    ],
    stories: [{ qProperty: { qInfo: { qId: 'stOry1', qType: 'story' }, qMetaDef: { title: 'Story' } }, qChildren: [] }],
    masterobjects: [
      { qProperty: { qInfo: { qId: 'mAster1', qType: 'masterobject' }, qMetaDef: { title: 'KPI' } }, qChildren: [] },
    ],
    appprops: [
      { qProperty: { qInfo: { qId: 'AppPropsList', qType: 'appprops' }, sheetTitleBgColor: '#fff' }, qChildren: [] },
    ],
    dimensions: [
      {
        properties: {
          qInfo: { qId: 'PLmpGj', qType: 'dimension' },
          qDim: { qGrouping: 'N', qFieldDefs: ['Country'], qFieldLabels: ['Country'], title: 'Country' },
          qMetaDef: meta('Country'),
        },
      },
    ],
    measures: [
      {
        properties: {
          qInfo: { qId: 'mTrKZA', qType: 'measure' },
          qMeasure: { qLabel: 'Sales', qDef: 'Sum(Sales)', qGrouping: 'N', qExpressions: [], qActiveExpression: 0 },
          qMetaDef: meta('Sales'),
        },
      },
    ],
    bookmarks: [
      {
        properties: { qInfo: { qId: 'a1b2c3', qType: 'bookmark' }, qMetaDef: meta('Nordics 2020') },
        layout: {
          qInfo: { qId: 'a1b2c3', qType: 'bookmark' },
          qMeta: { title: 'Nordics 2020' },
          qBookmark: {
            qStateData: [
              { qStateName: '$', qFieldItems: [{ qDef: { qName: 'Country' }, qValues: [], qExcludedValues: [] }] },
            ],
            qUtcModifyTime: 44243.35,
            qUtcRecallTime: 44243.35,
          },
        },
      },
    ],
    snapshots: [
      {
        properties: { qInfo: { qId: 'snap01', qType: 'snapshot' }, qMetaDef: meta('Q1 chart') },
        layout: { qInfo: { qId: 'snap01', qType: 'snapshot' }, qMeta: { title: 'Q1 chart' }, qBookmark: {} },
      },
    ],
    variables: [
      {
        properties: {
          qInfo: { qId: '9c8b7a6f', qType: 'variable' },
          qMetaDef: {},
          qName: 'vCurrentYear',
          qComment: '',
          qDefinition: '=Year(Today())',
          qIncludeInBookmark: false,
        },
        isScriptCreated: true,
      },
      {
        properties: { qInfo: { qId: '7e6d5c4b', qType: 'variable' }, qName: 'ThousandSep', qDefinition: ',' },
        isScriptCreated: true,
        isReserved: true,
      },
    ],
    connections: [
      {
        qId: 'b1c2d3e4-0000-4000-8000-000000000001',
        qName: 'DataFiles',
        qConnectionString: 'C:\\ProgramData\\Qlik\\Sense\\Apps\\DataFiles\\',
        qType: 'folder',
        qModifiedDate: '20210210T110500.000+0100',
        qMeta: { name: 'DataFiles' },
      },
    ],
    fields: [
      { qName: 'Country', qCardinal: 12, qTags: ['$ascii', '$text'], qSrcTables: ['Sales'] },
      { qName: '$Field', qCardinal: 5, qTags: ['$system'], qIsSystem: true, qSrcTables: [] },
    ],
    media: [
      { qUrlDef: '/media/Logo.png', qUrl: '/media/Logo.png' },
      { qUrlDef: '/content/Default/bg.png', qUrl: '/content/Default/bg.png' },
    ],
  }
}

function failingApp(): EngineApp {
  return {
    ...emptyApp(FAILING_APP_ID, 'Test failing reloads 2'),
    script: "SET ThousandSep=',';\n\nFAIL_SIM;\n",
  }
}

function emptyApp(id: string, name: string): EngineApp {
  return {
    id,
    name,
    meta: {},
    lastReloadTime: '',
    properties: { qTitle: name },
    script: '',
    lineage: [],
    sheets: [],
    stories: [],
    masterobjects: [],
    appprops: [],
    dimensions: [],
    measures: [],
    bookmarks: [],
    snapshots: [],
    variables: [],
    connections: [],
    fields: [],
    media: [],
  }
}
