import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningSimulator } from '../../src/sim/index.js'
import { createCa, createLeaf } from '../../src/sim/certs/generate.js'
import { IDS, qrs, startTestSim, tempCertDir, udpReceiver, type UdpReceiver } from './sim-harness.js'

type Entity = Record<string, unknown> & { id: string; name: string }

let sim: RunningSimulator
let udp: UdpReceiver

beforeAll(async () => {
  udp = await udpReceiver()
  sim = await startTestSim(tempCertDir('qrs'), udp.port)
})
afterAll(async () => {
  await sim.close()
  await udp.close()
})

describe('QRS authentication (QLIK-PROTOCOLS §1.2-1.3)', () => {
  it('refuses a client without a certificate at the TLS level', async () => {
    await expect(qrs(sim, '/qrs/about', { cert: 'none' })).rejects.toThrow()
  })

  it('refuses a certificate from another CA', async () => {
    const foreign = createLeaf(createCa('Other-CA'), { commonName: 'QlikClient', usage: 'client' })
    await expect(qrs(sim, '/qrs/about', { cert: foreign })).rejects.toThrow()
  })

  it('answers 200 with the certificate, matching keys and X-Qlik-User', async () => {
    const res = await qrs(sim, '/qrs/about')
    expect(res.status).toBe(200)
    expect(res.json<Record<string, unknown>>().schemaPath).toBe('About')
  })

  it.each([
    ['missing query key', { xrfkey: null }],
    ['missing header', { xrfHeader: null }],
    ['mismatch', { xrfHeader: 'abcdefghij012346' }],
    ['too short', { xrfkey: 'abc', xrfHeader: 'abc' }],
    ['bad characters', { xrfkey: 'abcdefghij01234-', xrfHeader: 'abcdefghij01234-' }],
  ])('answers 403 with the XSRF text on %s', async (_label, opts) => {
    const res = await qrs(sim, '/qrs/task', opts)
    expect(res.status).toBe(403)
    expect(res.body).toBe('XSRF prevention check failed. Possible XSRF discovered.')
  })

  it('checks the xrfkey on POST too', async () => {
    const res = await qrs(sim, `/qrs/task/${IDS.slowTask}/start`, { method: 'POST', body: '{}', xrfkey: null })
    expect(res.status).toBe(403)
    expect(sim.model.runningSessionOf(IDS.slowTask)).toBeUndefined()
  })

  it('matches the query parameter name case-insensitively (Qlik writes Xrfkey=)', async () => {
    const res = await qrs(sim, `/qrs/about?Xrfkey=${'Z'.repeat(16)}`, { xrfkey: null, xrfHeader: 'Z'.repeat(16) })
    expect(res.status).toBe(200)
  })

  it.each(['UserDirectory=INTERNAL; UserId=sa_repository', 'userdirectory = internal ; userid = sa_repository'])(
    'accepts X-Qlik-User %j',
    async (user) => {
      expect((await qrs(sim, '/qrs/about', { user })).status).toBe(200)
    },
  )

  it('rejects a missing X-Qlik-User with 403 (configurable, unconfirmed)', async () => {
    expect((await qrs(sim, '/qrs/about', { user: null })).status).toBe(403)
  })
})

describe('QRS collections (§1.5, §1.10)', () => {
  it('serves condensed tasks on /task and full ones on /task/full', async () => {
    const condensed = (await qrs(sim, '/qrs/task')).json<Entity[]>()
    expect(Object.keys(condensed[0] ?? {}).sort()).toEqual([
      'enabled',
      'id',
      'maxRetries',
      'name',
      'privileges',
      'taskSessionTimeout',
      'taskType',
    ])
    const full = (await qrs(sim, '/qrs/task/full')).json<Entity[]>()
    expect(full).toHaveLength(condensed.length)
    expect(full.find((t) => t.id === IDS.failingTask)).toMatchObject({
      schemaPath: 'ReloadTask',
      taskType: 0,
      privileges: null,
    })
  })

  it('counts with /count → {"value": n}', async () => {
    const res = await qrs(sim, '/qrs/task/count?filter=taskType eq 0')
    expect(res.json()).toEqual({ value: sim.model.tasks.values().filter((t) => t.taskType === 0).length })
  })

  it('answers 404 for an unknown id, and 200 with the full entity for a known one', async () => {
    expect((await qrs(sim, '/qrs/reloadtask/00000000-0000-0000-0000-0000000000aa')).status).toBe(404)
    expect((await qrs(sim, '/qrs/app/not-a-guid')).status).toBe(404)
    const app = await qrs(sim, `/qrs/app/${IDS.failingApp}`)
    expect(app.status).toBe(200)
    expect(app.json<Entity>().owner).toMatchObject({ id: IDS.goran, userId: 'goran', userDirectory: 'LAB' })
  })

  it('resolves preload and distribute ids through reloadtask/{id} (§4.2)', async () => {
    expect((await qrs(sim, `/qrs/reloadtask/${IDS.preloadTask}`)).status).toBe(200)
    expect((await qrs(sim, `/qrs/reloadtask/${IDS.distributeTask}`)).status).toBe(200)
    expect((await qrs(sim, `/qrs/reloadtask/${IDS.externalTask}`)).status).toBe(404)
    expect((await qrs(sim, `/qrs/externalprogramtask/${IDS.externalTask}`)).json<Entity>().schemaPath).toBe(
      'ExternalProgramTask',
    )
    expect((await qrs(sim, `/qrs/usersynctask/${IDS.userSyncTask}`)).json<Entity>().schemaPath).toBe('UserSyncTask')
  })

  it('treats path segments case-insensitively (Butler writes ReloadTask)', async () => {
    expect((await qrs(sim, `/qrs/ReloadTask/${IDS.failingTask.toUpperCase()}`)).status).toBe(200)
  })

  it('orders with orderby', async () => {
    const names = (await qrs(sim, '/qrs/tag?orderby=name%20desc')).json<Entity[]>().map((t) => t.name)
    expect(names).toEqual([...names].sort((a, b) => b.localeCompare(a)))
  })

  it('answers 404 for an unknown route', async () => {
    expect((await qrs(sim, '/qrs/nosuchthing/full')).status).toBe(404)
  })
})

describe('QRS filters (§1.5.1)', () => {
  const names = async (path: string): Promise<string[]> => {
    const res = await qrs(sim, path)
    expect(res.status).toBe(200)
    return res
      .json<Entity[]>()
      .map((e) => e.name)
      .sort()
  }

  it('Q1: id eq <unquoted GUID>, any case', async () => {
    expect(await names(`/qrs/task?filter=id eq ${IDS.failingTask.toUpperCase()}`)).toEqual([
      'Manually triggered reload of Test failing reloads 2',
    ])
  })

  it("Q3: tags.name eq 'x' matches any element, case-insensitively", async () => {
    expect(await names("/qrs/task/full?filter=tags.name eq 'butler DEMO'")).toEqual([
      'Manually triggered reload of Test failing reloads 2',
    ])
    expect(await names("/qrs/task/full?filter=tags.name eq 'Nightly'")).toEqual([
      'Reload Sales ETL',
      'Reload Sales dashboard',
      'Run nightly archive cleanup',
    ])
  })

  it('Q4: custom properties in parentheses joined by and', async () => {
    const path =
      "/qrs/task/full?filter=(customProperties.definition.name eq 'Butler_FailedTaskAlert') and " +
      "(customProperties.value eq 'All reloads')"
    expect(await names(path)).toEqual(['Reload Finance budget 2024'])
  })

  it('Q5: id, definition name and value in one and-chain', async () => {
    const base =
      `/qrs/task/full?filter=id eq ${IDS.failingTask} and customProperties.definition.name eq ` +
      `'Butler_FailedTaskAlert'`
    expect(await names(`${base} and customProperties.value eq 'Failed reloads'`)).toHaveLength(1)
    expect(await names(`${base} and customProperties.value eq 'All reloads'`)).toHaveLength(0)
  })

  it("Q7: objectTypes eq 'ReloadTask' over a string array", async () => {
    expect(await names("/qrs/custompropertydefinition/full?filter=objectTypes eq 'ReloadTask'")).toEqual([
      'Butler_FailedTaskAlert',
      'Butler_SuccessTaskAlert',
      'TaskOwnerEmail',
    ])
  })

  it("doubled quotes '' stand for one quote", async () => {
    const sim2Name = "It's a test"
    sim.model.tags.set({
      ...sim.model.tags.get(IDS.butlerTag)!,
      id: '11111111-2222-4333-8444-555555555555',
      name: sim2Name,
    })
    expect(await names("/qrs/tag?filter=name eq 'It''s a test'")).toEqual([sim2Name])
    expect(await names("/qrs/tag?filter=name eq 'It''s a test' or name eq 'Finance'")).toEqual(
      ['Finance', sim2Name].sort(),
    )
  })

  it('encoded spaces and quotes decode; a plus stays a plus', async () => {
    expect(await names('/qrs/tag?filter=name%20eq%20%27Finance%27')).toEqual(['Finance'])
    expect((await qrs(sim, "/qrs/tag?filter=name+eq+'Finance'")).status).toBe(400)
  })

  it('or, parentheses and sw/ew/so', async () => {
    expect(await names("/qrs/app?filter=(name sw 'sales' or name ew 'monitor') and published eq true")).toEqual([
      'Operations monitor',
      'Sales dashboard',
    ])
    expect(await names("/qrs/app?filter=name so 'BUDGET'")).toEqual(['Finance budget 2024'])
  })

  it('null and ne', async () => {
    expect(await names('/qrs/app?filter=stream eq null')).toEqual([
      'Sales ETL (QVD generator)',
      'Test failing reloads 2',
    ])
    expect(await names("/qrs/app?filter=stream ne null and stream.name ne 'Sales'")).toEqual([
      'Finance budget 2024',
      'Operations monitor',
    ])
  })

  it('an empty match is 200 []', async () => {
    const res = await qrs(sim, "/qrs/task?filter=name eq 'nothing like this'")
    expect(res.status).toBe(200)
    expect(res.json()).toEqual([])
  })

  it.each(["name eq 'unterminated", 'name equals x', '(name eq x', "name eq 'a' and"])(
    'answers 400 to %j',
    async (filter) => {
      const res = await qrs(sim, `/qrs/task?filter=${encodeURIComponent(filter)}`)
      expect(res.status).toBe(400)
      expect(res.body).toMatch(/^Cannot parse the expression: /)
    },
  )
})
