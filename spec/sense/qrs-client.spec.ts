import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { CapabilityError } from '../../src/core/errors.js'
import { silentLogger } from '../../src/log.js'
import { codeOf } from './qrs-helpers.js'
import { createQrsClient, EMPTY_GUID, XRFKEY_PATTERN, type QrsClient } from '../../src/sense/qrs/index.js'
import {
  APP_ID,
  RESULT_ID,
  SESSION_ID,
  TASK_ID,
  makeTestPki,
  startFakeQrs,
  testSenseConfig,
  type FakeHandler,
  type FakeQrs,
  type RecordedRequest,
  type TestPki,
} from './qrs-helpers.js'

/** The QRS client against a minimal HTTPS server that requires a client certificate, like QRS on 4242. */

let pki: TestPki
let server: FakeQrs
let qrs: QrsClient
let route: FakeHandler

const notFound = { status: 404, body: 'Not found', contentType: 'text/plain' }

function last(): RecordedRequest {
  const req = server.requests.at(-1)
  if (!req) throw new Error('no request recorded')
  return req
}

beforeAll(async () => {
  pki = makeTestPki()
  server = await startFakeQrs(pki, (req) => route(req))
  qrs = createQrsClient(testSenseConfig(pki, server.port, { qrs: { retries: 2 } }), {
    log: silentLogger(),
    maxRetryDelayMs: 20,
  })
})

afterAll(async () => {
  qrs.close()
  await server.close()
})

beforeEach(() => {
  server.requests.length = 0
  route = () => notFound
})

describe('every request', () => {
  it('carries a client certificate, X-Qlik-User, JSON content type and a matching xrfkey (§1.2-1.3)', async () => {
    route = () => ({ status: 200, body: { buildVersion: '30.1.2.0', schemaPath: 'About' } })
    expect(await qrs.about()).toMatchObject({ buildVersion: '30.1.2.0' })
    const req = last()
    expect(req.method).toBe('GET')
    expect(req.pathname).toBe('/qrs/about')
    expect(req.clientCertSubject).toBe('QlikClient')
    expect(req.headers['x-qlik-user']).toBe('UserDirectory=INTERNAL; UserId=sa_repository')
    expect(req.headers['content-type']).toBe('application/json')
    expect(req.query.xrfkey).toMatch(XRFKEY_PATTERN)
    expect(req.headers['x-qlik-xrfkey']).toBe(req.query.xrfkey)
  })

  it('uses a fresh xrfkey per request, over one reused keep-alive connection', async () => {
    route = () => ({ status: 200, body: {} })
    await qrs.about()
    await qrs.about()
    await qrs.about()
    const keys = server.requests.map((r) => r.query.xrfkey)
    expect(new Set(keys).size).toBe(3)
    for (const r of server.requests) expect(r.headers['x-qlik-xrfkey']).toBe(r.query.xrfkey)
    expect(new Set(server.requests.map((r) => r.remotePort)).size).toBe(1)
    expect(server.requests.every((r) => r.headers.connection === 'keep-alive')).toBe(true)
  })

  it('honours the configured user', async () => {
    const other = createQrsClient(testSenseConfig(pki, server.port, { user: { directory: 'LAB', id: 'svc_bus' } }), {
      log: silentLogger(),
    })
    route = () => ({ status: 200, body: {} })
    await other.about()
    other.close()
    expect(last().headers['x-qlik-user']).toBe('UserDirectory=LAB; UserId=svc_bus')
  })
})

describe('task reads and filters (QLIK-PROTOCOLS §1.5.1, §1.6)', () => {
  const task = { id: TASK_ID, name: "Bob's reload", taskType: 0, tags: [], customProperties: [] }

  it('getTask reads task/full with an unquoted GUID, and an empty answer is NOT_FOUND', async () => {
    route = () => ({ status: 200, body: [task] })
    expect(await qrs.getTask(TASK_ID)).toEqual(task)
    expect(last().pathname).toBe('/qrs/task/full')
    expect(last().query.filter).toBe(`id eq ${TASK_ID}`)
    expect(last().url).toContain(`filter=id%20eq%20${TASK_ID}&xrfkey=`)
    route = () => ({ status: 200, body: [] })
    expect(await codeOf(qrs.getTask(TASK_ID))).toBe('NOT_FOUND')
  })

  it('doubles single quotes in names, tags and custom properties, and never encodes a space as +', async () => {
    route = () => ({ status: 200, body: [task] })
    await qrs.findTasks({ name: "Bob's reload" })
    expect(last().query.filter).toBe("name eq 'Bob''s reload'")
    expect(last().url).not.toContain('+')
    await qrs.findTasks({ tag: "Nightly 'prod'" })
    expect(last().query.filter).toBe("tags.name eq 'Nightly ''prod'''")
    await qrs.findTasks({ customProperty: { name: 'Butler_Start', value: "O'Neil + co" } })
    expect(last().query.filter).toBe(
      "(customProperties.definition.name eq 'Butler_Start') and (customProperties.value eq 'O''Neil + co')",
    )
    await qrs.findTasks({})
    expect(last().query.filter).toBeUndefined()
  })

  it('refuses a non-GUID id before any request (no filter or path injection)', async () => {
    expect(await codeOf(qrs.getTask("x' or name ne '"))).toBe('VALIDATION_FAILED')
    expect(await codeOf(qrs.getReloadTask('../app/abc'))).toBe('VALIDATION_FAILED')
    expect(server.requests).toHaveLength(0)
  })

  it('taskExists uses the condensed task list', async () => {
    route = () => ({ status: 200, body: [{ id: TASK_ID, name: 'x' }] })
    expect(await qrs.taskExists(TASK_ID)).toBe(true)
    expect(last().pathname).toBe('/qrs/task')
    route = () => ({ status: 200, body: [] })
    expect(await qrs.taskExists(TASK_ID)).toBe(false)
  })

  it('getReloadTask: 200 entity, 404 → NOT_FOUND, 403 → SENSE_AUTH, 500 → SENSE_ERROR', async () => {
    route = () => ({ status: 200, body: { ...task, operational: {} } })
    expect((await qrs.getReloadTask(TASK_ID)).name).toBe("Bob's reload")
    expect(last().pathname).toBe(`/qrs/reloadtask/${TASK_ID}`)
    route = () => notFound
    expect(await codeOf(qrs.getReloadTask(TASK_ID))).toBe('NOT_FOUND')
    route = () => ({
      status: 403,
      body: 'XSRF prevention check failed. Possible XSRF discovered.',
      contentType: 'text/plain',
    })
    expect(await codeOf(qrs.getReloadTask(TASK_ID))).toBe('SENSE_AUTH')
    route = () => ({ status: 401, body: '' })
    expect(await codeOf(qrs.getReloadTask(TASK_ID))).toBe('SENSE_AUTH')
    route = () => ({ status: 400, body: 'Cannot parse the expression' })
    expect(await codeOf(qrs.getReloadTask(TASK_ID))).toBe('SENSE_ERROR')
  })

  it('error details name method, path and status, with the body start but without the xrfkey', async () => {
    route = () => ({
      status: 403,
      body: 'XSRF prevention check failed. Possible XSRF discovered.',
      contentType: 'text/plain',
    })
    const err = await qrs.findTasks({ tag: 'a b' }).then(
      () => {
        throw new Error('expected a rejection')
      },
      (e: unknown) => e as CapabilityError,
    )
    expect(err).toBeInstanceOf(CapabilityError)
    expect(err.details).toEqual({
      method: 'GET',
      path: "/qrs/task/full?filter=tags.name%20eq%20'a%20b'",
      status: 403,
      body: 'XSRF prevention check failed. Possible XSRF discovered.',
    })
    expect(JSON.stringify(err.toJSON())).not.toMatch(/xrfkey|BEGIN/i)
  })

  it('does not follow redirects (the user header must not travel elsewhere): 3xx → SENSE_ERROR', async () => {
    let hits = 0
    route = () => (++hits, { status: 302, body: '' })
    expect(await codeOf(qrs.about())).toBe('SENSE_ERROR')
    expect(hits).toBe(1)
  })

  it('a body of the wrong shape is SENSE_ERROR', async () => {
    route = () => ({ status: 200, body: '<html>proxy login</html>', contentType: 'text/html' })
    expect(await codeOf(qrs.findTasks({}))).toBe('SENSE_ERROR')
    route = () => ({ status: 200, body: { not: 'a list' } })
    expect(await codeOf(qrs.findTasks({}))).toBe('SENSE_ERROR')
    route = () => ({ status: 200, body: [1, 2] })
    expect(await codeOf(qrs.findTasks({}))).toBe('SENSE_ERROR')
    route = () => ({ status: 200, body: [] })
    expect(await codeOf(qrs.getReloadTask(TASK_ID))).toBe('SENSE_ERROR')
  })
})

describe('retries: reads only', () => {
  it('retries a GET on 503 up to qrs.retries times', async () => {
    let hits = 0
    route = () => (++hits < 3 ? { status: 503, body: 'busy' } : { status: 200, body: {} })
    await qrs.about()
    expect(hits).toBe(3)
    hits = 0
    route = () => (++hits, { status: 503, body: 'busy' })
    expect(await codeOf(qrs.about())).toBe('SENSE_ERROR')
    expect(hits).toBe(3)
  })

  it('never retries a start, whatever the failure', async () => {
    let hits = 0
    route = () => (++hits, { status: 503, body: 'busy' })
    expect(await codeOf(qrs.startTask(TASK_ID))).toBe('SENSE_ERROR')
    expect(await codeOf(qrs.startTaskSynchronous(TASK_ID))).toBe('SENSE_ERROR')
    expect(await codeOf(qrs.startTasks([TASK_ID]))).toBe('SENSE_ERROR')
    expect(hits).toBe(3)
  })
})

describe('task starts (QLIK-PROTOCOLS §1.7)', () => {
  it('startTask posts {} to task/{id}/start and wants exactly 204', async () => {
    route = () => ({ status: 204 })
    await qrs.startTask(TASK_ID)
    expect(last()).toMatchObject({ method: 'POST', pathname: `/qrs/task/${TASK_ID}/start`, body: '{}' })
    expect(last().headers['x-qlik-xrfkey']).toBe(last().query.xrfkey)
    route = () => ({ status: 200, body: {} })
    expect(await codeOf(qrs.startTask(TASK_ID))).toBe('SENSE_ERROR')
    route = () => ({ status: 404, body: 'No task found', contentType: 'text/plain' })
    expect(await codeOf(qrs.startTask(TASK_ID))).toBe('SENSE_TASK_NOT_FOUND')
  })

  it('startTaskSynchronous returns the session id, or the empty GUID when the task did not start', async () => {
    route = () => ({ status: 201, body: { value: SESSION_ID } })
    expect(await qrs.startTaskSynchronous(TASK_ID)).toBe(SESSION_ID)
    expect(last()).toMatchObject({ method: 'POST', pathname: `/qrs/task/${TASK_ID}/start/synchronous` })
    route = () => ({ status: 200, body: { value: EMPTY_GUID } })
    expect(await qrs.startTaskSynchronous(TASK_ID)).toBe(EMPTY_GUID)
    route = () => ({ status: 201, body: { nope: 1 } })
    expect(await codeOf(qrs.startTaskSynchronous(TASK_ID))).toBe('SENSE_ERROR')
  })

  it('starts by name (async and synchronous) and many at once', async () => {
    route = () => ({ status: 204 })
    await qrs.startTaskByName("Reload 'Sales'")
    expect(last()).toMatchObject({ method: 'POST', pathname: '/qrs/task/start', query: { name: "Reload 'Sales'" } })
    route = () => ({ status: 201, body: { value: SESSION_ID } })
    expect(await qrs.startTaskByNameSynchronous('Reload Sales')).toBe(SESSION_ID)
    expect(last().pathname).toBe('/qrs/task/start/synchronous')
    route = () => ({ status: 204 })
    await qrs.startTasks([TASK_ID, APP_ID])
    expect(last()).toMatchObject({ method: 'POST', pathname: '/qrs/task/start/many' })
    expect(JSON.parse(last().body)).toEqual([TASK_ID, APP_ID])
  })

  it('execution session: object while running, null once finished (404)', async () => {
    route = () => ({ status: 200, body: { id: SESSION_ID, taskSessionTimeout: 1440 } })
    expect(await qrs.getExecutionSession(SESSION_ID)).toMatchObject({ id: SESSION_ID })
    expect(last().pathname).toBe(`/qrs/executionsession/${SESSION_ID}`)
    route = () => notFound
    expect(await qrs.getExecutionSession(SESSION_ID)).toBeNull()
  })

  it('execution results by execution id and/or task id', async () => {
    route = () => ({ status: 200, body: [{ id: RESULT_ID, executionID: SESSION_ID, status: 7 }] })
    const results = await qrs.getExecutionResults({ executionId: SESSION_ID })
    expect(results[0]?.status).toBe(7)
    expect(last().pathname).toBe('/qrs/executionresult/full')
    expect(last().query.filter).toBe(`ExecutionId eq ${SESSION_ID}`)
    await qrs.getExecutionResults({ executionId: SESSION_ID, taskId: TASK_ID })
    expect(last().query.filter).toBe(`(ExecutionId eq ${SESSION_ID}) and (TaskId eq ${TASK_ID})`)
  })
})

describe('apps, users, tags, custom properties', () => {
  it('getApp, findApps', async () => {
    route = () => ({ status: 200, body: { id: APP_ID, name: 'Sales' } })
    expect((await qrs.getApp(APP_ID)).name).toBe('Sales')
    expect(last().pathname).toBe(`/qrs/app/${APP_ID}`)
    route = () => ({ status: 200, body: [{ id: APP_ID, name: 'Sales' }] })
    await qrs.findApps({ id: APP_ID })
    expect(last().query.filter).toBe(`id eq ${APP_ID}`)
    await qrs.findApps({ streamName: "Manager's stream", tag: 'x' })
    expect(last().query.filter).toBe("(tags.name eq 'x') and (stream.name eq 'Manager''s stream')")
  })

  it('getUser and getUserEmail (attribute type compared case-insensitively)', async () => {
    const user = {
      id: APP_ID,
      userId: 'goran',
      userDirectory: 'LAB',
      name: 'Göran',
      roles: [],
      customProperties: [],
      tags: [],
      attributes: [
        { id: '1', attributeType: 'Group', attributeValue: 'Admins' },
        { id: '2', attributeType: 'email', attributeValue: 'goran@example.com' },
      ],
    }
    route = () => ({ status: 200, body: user })
    expect(await qrs.getUserEmail(APP_ID)).toBe('goran@example.com')
    expect(last().pathname).toBe(`/qrs/user/${APP_ID}`)
    route = () => ({ status: 200, body: { ...user, attributes: [] } })
    expect(await qrs.getUserEmail(APP_ID)).toBeNull()
    route = () => notFound
    expect(await codeOf(qrs.getUser(APP_ID))).toBe('NOT_FOUND')
  })

  it('listTags and listCustomPropertyDefinitions', async () => {
    route = () => ({ status: 200, body: [{ id: '1', name: "It's a tag" }] })
    expect(await qrs.listTags()).toHaveLength(1)
    expect(last()).toMatchObject({ pathname: '/qrs/tag/full', query: {} })
    await qrs.listTags("It's a tag")
    expect(last().query.filter).toBe("name eq 'It''s a tag'")
    await qrs.listCustomPropertyDefinitions('ReloadTask')
    expect(last()).toMatchObject({
      pathname: '/qrs/custompropertydefinition/full',
      query: { filter: "objectTypes eq 'ReloadTask'" },
    })
    await qrs.listCustomPropertyDefinitions()
    expect(last().query.filter).toBeUndefined()
  })

  it('get<T> and getList<T> escape hatches', async () => {
    route = () => ({ status: 200, body: { value: 3 } })
    expect(await qrs.get<{ value: number }>('task/count', { filter: "name sw 'A'" })).toEqual({ value: 3 })
    expect(last()).toMatchObject({ pathname: '/qrs/task/count', query: { filter: "name sw 'A'" } })
    route = () => ({ status: 200, body: [{ id: 'n1' }] })
    expect(await qrs.getList('servernodeconfiguration', 'isCentral eq true')).toEqual([{ id: 'n1' }])
  })
})
