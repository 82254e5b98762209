import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningSimulator } from '../../src/sim/index.js'
import { IDS, qrs, startTestSim, tempCertDir, udpReceiver, type UdpReceiver } from './sim-harness.js'

type Json = Record<string, any>

/** Field sets of QLIK-PROTOCOLS §1.10, in the order the spec lists them. */
const SHAPES = {
  reloadTask: [
    'id',
    'createdDate',
    'modifiedDate',
    'modifiedByUserName',
    'customProperties',
    'app',
    'isManuallyTriggered',
    'operational',
    'name',
    'taskType',
    'enabled',
    'taskSessionTimeout',
    'maxRetries',
    'tags',
    'privileges',
    'schemaPath',
    'isPartialReload',
    'timeToLive',
    'preloadNodes',
  ],
  appCondensed: [
    'id',
    'name',
    'appId',
    'publishTime',
    'published',
    'stream',
    'savedInProductVersion',
    'migrationHash',
    'availabilityStatus',
    'privileges',
  ],
  operational: ['id', 'lastExecutionResult', 'nextExecution', 'privileges'],
  lastExecutionResult: [
    'id',
    'executingNodeName',
    'status',
    'startTime',
    'stopTime',
    'duration',
    'fileReferenceID',
    'scriptLogAvailable',
    'details',
    'scriptLogLocation',
    'scriptLogSize',
    'privileges',
  ],
  executionResult: [
    'id',
    'createdDate',
    'modifiedDate',
    'modifiedByUserName',
    'taskID',
    'executionID',
    'appID',
    'executingNodeID',
    'executingNodeName',
    'status',
    'startTime',
    'stopTime',
    'duration',
    'fileReferenceID',
    'scriptLogAvailable',
    'details',
    'scriptLogLocation',
    'scriptLogSize',
    'privileges',
    'schemaPath',
  ],
  detail: ['id', 'detailsType', 'message', 'detailCreatedDate', 'privileges'],
  customPropertyValue: ['id', 'createdDate', 'modifiedDate', 'modifiedByUserName', 'value', 'definition', 'schemaPath'],
  customPropertyDefinitionCondensed: ['id', 'name', 'valueType', 'choiceValues', 'privileges'],
  app: [
    'id',
    'createdDate',
    'modifiedDate',
    'modifiedByUserName',
    'customProperties',
    'owner',
    'name',
    'appId',
    'sourceAppId',
    'targetAppId',
    'publishTime',
    'published',
    'tags',
    'description',
    'stream',
    'fileSize',
    'lastReloadTime',
    'thumbnail',
    'savedInProductVersion',
    'migrationHash',
    'dynamicColor',
    'availabilityStatus',
    'privileges',
    'schemaPath',
  ],
  owner: ['id', 'userId', 'userDirectory', 'userDirectoryConnectorName', 'name', 'privileges'],
  tag: ['id', 'createdDate', 'modifiedDate', 'modifiedByUserName', 'name', 'privileges', 'schemaPath'],
  tagCondensed: ['id', 'name', 'privileges'],
  customPropertyDefinition: [
    'id',
    'createdDate',
    'modifiedDate',
    'modifiedByUserName',
    'name',
    'valueType',
    'choiceValues',
    'objectTypes',
    'description',
    'privileges',
    'schemaPath',
  ],
  user: [
    'id',
    'createdDate',
    'modifiedDate',
    'modifiedByUserName',
    'customProperties',
    'userId',
    'userDirectory',
    'userDirectoryConnectorName',
    'name',
    'roles',
    'attributes',
    'inactive',
    'removedExternally',
    'blacklisted',
    'deleteProhibited',
    'tags',
    'privileges',
    'schemaPath',
  ],
  userAttribute: ['id', 'createdDate', 'modifiedDate', 'attributeType', 'attributeValue', 'externalId', 'schemaPath'],
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const keysOf = (o: Json): string[] => Object.keys(o).sort()
const shape = (name: keyof typeof SHAPES): string[] => [...SHAPES[name]].sort()

let sim: RunningSimulator
let udp: UdpReceiver

beforeAll(async () => {
  udp = await udpReceiver()
  sim = await startTestSim(tempCertDir('shapes'), udp.port)
})
afterAll(async () => {
  await sim.close()
  await udp.close()
})

describe('the demo fixture (issue 4)', () => {
  it('has every task type, several streams and apps, a chain, a failing and a slow task', () => {
    const tasks = sim.model.tasks.values()
    expect(new Set(tasks.map((t) => t.taskType))).toEqual(new Set([0, 1, 2, 3, 4]))
    expect(sim.model.streams.size).toBeGreaterThanOrEqual(3)
    expect(sim.model.apps.size).toBeGreaterThanOrEqual(4)
    expect(tasks.some((t) => t.startAfterSuccessOf.length > 0)).toBe(true)
    expect(sim.model.tasks.get(IDS.failingTask)?.behaviour.outcome).toBe('fail')
    expect(sim.model.tasks.get(IDS.slowTask)?.behaviour.durationMs).toBeGreaterThanOrEqual(30_000)
    const sales = sim.model.apps.get(IDS.salesApp)!
    for (const list of Object.values(sales.objects)) expect(list.length).toBeGreaterThan(0)
    expect(sales.lineage.map((l) => l.discriminator)).toEqual([
      'lib://DataFiles/qvd/sales_transactions.qvd',
      'lib://DataFiles/qvd/customers.qvd',
      'INLINE',
      'RESIDENT',
    ])
  })
})

describe('entity shapes (QLIK-PROTOCOLS §1.10)', () => {
  it('(a) reload task: field set, nested app, operational, never-run sentinel values', async () => {
    for (const task of (await qrs(sim, '/qrs/reloadtask/full')).json<Json[]>()) {
      expect(keysOf(task)).toEqual(shape('reloadTask'))
      expect(task.schemaPath).toBe('ReloadTask')
      expect(task.privileges).toBeNull()
      expect(keysOf(task.app)).toEqual(shape('appCondensed'))
      expect(keysOf(task.operational)).toEqual(shape('operational'))
      const last = task.operational.lastExecutionResult
      expect(keysOf(last)).toEqual(shape('lastExecutionResult'))
      expect(last).toMatchObject({
        status: 0,
        startTime: '1753-01-01T00:00:00.000Z',
        stopTime: '1753-01-01T00:00:00.000Z',
        fileReferenceID: '00000000-0000-0000-0000-000000000000',
      })
      for (const tag of task.tags) expect(keysOf(tag)).toEqual(shape('tagCondensed'))
      for (const cp of task.customProperties) {
        expect(keysOf(cp)).toEqual(shape('customPropertyValue'))
        expect(cp.schemaPath).toBe('CustomPropertyValue')
        expect(keysOf(cp.definition)).toEqual(shape('customPropertyDefinitionCondensed'))
      }
      for (const field of ['createdDate', 'modifiedDate']) expect(task[field]).toMatch(ISO)
      expect(task.id).toMatch(GUID)
    }
  })

  it('(b) other task types: their schemaPath, no app on external program and user sync', async () => {
    const all = (await qrs(sim, '/qrs/task/full')).json<Json[]>()
    const byType = (n: number): Json => all.find((t) => t.taskType === n)!
    expect(byType(1)).toMatchObject({ schemaPath: 'ExternalProgramTask', path: 'C:\\Scripts\\archive-cleanup.cmd' })
    expect(byType(1)).not.toHaveProperty('app')
    expect(byType(2)).toMatchObject({ schemaPath: 'UserSyncTask' })
    expect(byType(2)).not.toHaveProperty('app')
    expect(byType(3).schemaPath).toBe('DistributionTask')
    expect(byType(4).schemaPath).toBe('PreloadTask')
    for (const t of all) expect(keysOf(t.operational)).toEqual(shape('operational'))
  })

  it('(c) execution result after a run: full and condensed, details', async () => {
    sim.executor.setBehaviour(IDS.failingTask, { durationMs: 20 })
    await qrs(sim, `/qrs/task/${IDS.failingTask}/start`, { method: 'POST', body: '{}' })
    await udp.next()
    const results = (await qrs(sim, `/qrs/executionresult/full?filter=TaskId eq ${IDS.failingTask}`)).json<Json[]>()
    expect(results).toHaveLength(1)
    const r = results[0]!
    expect(keysOf(r)).toEqual(shape('executionResult'))
    for (const d of r.details) expect(keysOf(d)).toEqual(shape('detail'))
    expect(r.details.every((d: Json) => [0, 1, 2].includes(d.detailsType) && ISO.test(d.detailCreatedDate))).toBe(true)
    expect(typeof r.duration).toBe('number')
    const condensed = (await qrs(sim, `/qrs/executionresult?filter=id eq ${r.id}`)).json<Json[]>()[0]!
    expect(keysOf(condensed)).toEqual(shape('lastExecutionResult'))
  })

  it('(d) app: full entity, owner, published app with stream', async () => {
    for (const app of (await qrs(sim, '/qrs/app/full')).json<Json[]>()) {
      expect(keysOf(app)).toEqual(shape('app'))
      expect(keysOf(app.owner)).toEqual(shape('owner'))
      expect(app).toMatchObject({ appId: '', sourceAppId: '00000000-0000-0000-0000-000000000000', schemaPath: 'App' })
      if (app.published) expect(keysOf(app.stream)).toEqual(['id', 'name', 'privileges'])
      else expect(app).toMatchObject({ stream: null, publishTime: '1753-01-01T00:00:00.000Z' })
    }
    const condensed = (await qrs(sim, '/qrs/app')).json<Json[]>()
    for (const app of condensed) expect(keysOf(app)).toEqual(shape('appCondensed'))
  })

  it('(e, f) tags and custom property definitions', async () => {
    for (const tag of (await qrs(sim, '/qrs/tag/full')).json<Json[]>()) expect(keysOf(tag)).toEqual(shape('tag'))
    const butler = (await qrs(sim, `/qrs/tag/${IDS.butlerTag}`)).json<Json>()
    expect(butler).toEqual({
      id: IDS.butlerTag,
      createdDate: '2021-01-05T10:00:00.000Z',
      modifiedDate: '2021-01-05T10:00:00.000Z',
      modifiedByUserName: 'LAB\\goran',
      name: 'Butler demo',
      privileges: null,
      schemaPath: 'Tag',
    })
    const defs = (await qrs(sim, '/qrs/custompropertydefinition/full')).json<Json[]>()
    for (const def of defs) expect(keysOf(def)).toEqual(shape('customPropertyDefinition'))
    expect(defs.find((d) => d.id === IDS.failedAlertDef)).toMatchObject({
      name: 'Butler_FailedTaskAlert',
      valueType: 'Text',
      choiceValues: ['Failed reloads', 'All reloads'],
      objectTypes: ['ReloadTask', 'ExternalProgramTask'],
    })
  })

  it('(g) user with e-mail attributes', async () => {
    const user = (await qrs(sim, `/qrs/user/${IDS.goran}`)).json<Json>()
    expect(keysOf(user)).toEqual(shape('user'))
    for (const a of user.attributes) expect(keysOf(a)).toEqual(shape('userAttribute'))
    expect(user.attributes.find((a: Json) => a.attributeType.toLowerCase() === 'email')?.attributeValue).toBe(
      'goran@example.com',
    )
    expect(user.name).toBe('Göran Sander')
  })
})
