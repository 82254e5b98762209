import { readFileSync } from 'node:fs'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { RunningSimulator } from '../../src/sim/index.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { connect, type TestClient } from '../helpers/client.js'
import { call, rawHttp } from '../http/http-helpers.js'
import { IDS, senseOverrides, startTestSim, tempCertDir } from '../sim/sim-harness.js'

const certDir = tempCertDir('app-reload')
let sim: RunningSimulator
let sb: TestApp
let client: TestClient

beforeAll(async () => {
  sim = await startTestSim(certDir, 9, { behaviours: { '*': { durationMs: 50 } } })
  sb = await startTestApp({
    overrides: {
      ...senseOverrides(sim, certDir),
      'capabilities.app.progressPollMs': 50,
    },
  })
  client = await connect(sb.mqttUrl)
})
afterAll(async () => {
  await client?.end()
  await sb?.stop({ clean: true })
  await sim?.close()
})
afterEach(() => {
  sim.faults.engineReloadMs = -1
})

type ReloadResult = {
  appId: string
  success: boolean
  saved: boolean
  partial: boolean
  logTail?: string[]
  followUps: { taskId: string; started: boolean }[]
  jobId: string
  state: string
}

const taskStarts = () =>
  sim.recorder
    .list('qrs')
    .map((c) => (c as { method: string; path: string }).path)
    .filter((p) => /\/qrs\/task\/[^/]+\/start/.test(p))

describe('app/list', () => {
  it('lists the apps over MQTT, filtered by stream, and over /v4/apps/list with Butler body', async () => {
    const all = await client.request<{ apps: { id: string; name: string; stream: string | null }[] }>('app/list')
    expect(all.status).toBe('ok')
    if (all.status !== 'ok') return
    expect(all.data.apps.map((a) => a.id).sort()).toEqual(
      sim.model.apps
        .values()
        .map((a) => a.id)
        .sort(),
    )
    const sales = await client.request<{ apps: { stream: string }[] }>('app/list', { stream: 'Sales' })
    expect(sales.status === 'ok' && sales.data.apps.map((a) => a.stream)).toEqual(['Sales'])
    for (const path of ['/v4/apps/list', '/v4/senselistapps']) {
      const res = await call(sb.httpUrl, 'GET', path)
      expect(res.status).toBe(200)
      expect(res.json).toContainEqual({ id: IDS.salesApp, name: 'Sales dashboard' })
      expect(Object.keys(res.json[0]).sort()).toEqual(['id', 'name'])
    }
  })
})

describe('app/reload', () => {
  it('full reload with wait: progress events carry the engine lines; saved; success follow-ups started', async () => {
    sim.faults.engineReloadMs = 400
    const before = sim.model.apps.get(IDS.salesApp)?.lastReloadTime
    const events = await client.collect('sense/event/job/+/progress')
    const startsBefore = taskStarts().length
    const res = await client.request<ReloadResult>(
      'app/reload',
      { appId: IDS.salesApp, wait: true, startTaskOnSuccess: [IDS.etlTask], startTaskOnFailure: [IDS.failingTask] },
      { timeoutMs: 10_000 },
    )
    expect(res.status, JSON.stringify(res)).toBe('ok')
    if (res.status !== 'ok') return
    expect(res.data).toMatchObject({ appId: IDS.salesApp, success: true, saved: true, partial: false })
    expect(res.data.followUps).toEqual([expect.objectContaining({ taskId: IDS.etlTask, started: true })])
    expect(taskStarts().slice(startsBefore).join()).toContain(IDS.etlTask)
    expect(taskStarts().slice(startsBefore).join()).not.toContain(IDS.failingTask)
    expect(sim.model.apps.get(IDS.salesApp)?.lastReloadTime).not.toBe(before)
    const lines = events
      .map((e) => JSON.parse(e.payload) as { data: { jobId: string; lines?: string[] } })
      .filter((e) => e.data.jobId === res.data.jobId)
      .flatMap((e) => e.data.lines ?? [])
    expect(lines).toContain('Sales << sales_transactions')
    expect(lines.some((l) => l.startsWith('Lines fetched: '))).toBe(true)
  })

  it('a failing reload: success false, the log tail, not saved, failure follow-ups started', async () => {
    const startsBefore = taskStarts().length
    const res = await client.request<ReloadResult>(
      'app/reload',
      { appId: IDS.failingApp, wait: true, startTaskOnSuccess: [IDS.etlTask], startTaskOnFailure: [IDS.salesTask] },
      { timeoutMs: 10_000 },
    )
    expect(res.status).toBe('ok')
    if (res.status !== 'ok') return
    expect(res.data).toMatchObject({ success: false, saved: false })
    expect(res.data.logTail?.join('\n')).toContain('sales_2021.qvd')
    expect(res.data.followUps).toEqual([expect.objectContaining({ taskId: IDS.salesTask, started: true })])
    expect(taskStarts().slice(startsBefore).join()).not.toContain(IDS.etlTask)
  })

  it('a partial reload of the same failing script succeeds (its plain LOAD is skipped)', async () => {
    const res = await client.request<ReloadResult>(
      'app/reload',
      { appId: IDS.failingApp, partial: true, wait: true },
      { timeoutMs: 10_000 },
    )
    expect(res.status === 'ok' && res.data).toMatchObject({ success: true, partial: true })
  })

  it('without wait the answer comes once the app is open; job/cancel stops it (CancelReload)', async () => {
    sim.faults.engineReloadMs = 5_000
    const res = await client.request<ReloadResult>('app/reload', { appId: IDS.salesApp })
    expect(res.status === 'ok' && res.data).toMatchObject({ appId: IDS.salesApp, state: 'running' })
    if (res.status !== 'ok') return
    const started = Date.now()
    expect((await client.request('job/cancel', { jobId: res.data.jobId })).status).toBe('ok')
    await expect
      .poll(async () => {
        const s = await client.request<{ state: string }>('job/status', { jobId: res.data.jobId })
        return s.status === 'ok' ? s.data.state : undefined
      })
      .toBe('cancelled')
    await expect.poll(() => sim.recorder.list('engine').some((c) => c.method === 'CancelReload')).toBe(true)
    expect(Date.now() - started).toBeLessThan(3_000)
  })

  it('a reload past its timeout is cancelled in the engine and fails with TIMEOUT', async () => {
    sim.faults.engineReloadMs = 5_000
    const res = await client.request(
      'app/reload',
      { appId: IDS.salesApp, timeoutMs: 300, wait: true, startTaskOnFailure: [IDS.salesTask] },
      { timeoutMs: 5_000 },
    )
    expect(res.status === 'error' && res.error.code).toBe('TIMEOUT')
    expect(res.status === 'error' && res.error.details).toMatchObject({
      followUps: [expect.objectContaining({ taskId: IDS.salesTask, started: true })],
    })
  })

  it('a reload and a dump of the same app at once do not collide (one engine session each)', async () => {
    sim.faults.engineReloadMs = 600
    const [reload, dump] = await Promise.all([
      client.request<ReloadResult>('app/reload', { appId: IDS.salesApp, wait: true }, { timeoutMs: 10_000 }),
      client.request<{ appId: string; loadScript: string }>('app/dump', { appId: IDS.salesApp }, { timeoutMs: 10_000 }),
    ])
    expect(reload.status === 'ok' && reload.data.success).toBe(true)
    expect(dump.status === 'ok' && dump.data.appId).toBe(IDS.salesApp)
    expect(dump.status === 'ok' && dump.data.loadScript).toContain('Sales:')
  })

  it('an unknown app → NOT_FOUND over MQTT', async () => {
    const res = await client.request('app/reload', { appId: '00000000-0000-4000-8000-000000000000', wait: true })
    expect(res.status === 'error' && res.error.code).toBe('NOT_FOUND')
  })
})

describe("Butler's routes, as load scripts send them", () => {
  it('ReloadSenseApp: POST, X-HTTP-Method-Override: PUT, "partialReload":"true" → 201 {appId}', async () => {
    // What the REST connector sends once the sub's doubled quotes are unescaped (butler_subs.qvs).
    const body =
      `{"partialReload":"true", "reloadMode":0, "startQSEoWTaskOnSuccess":["${IDS.etlTask}"], ` +
      '"startQSEoWTaskOnFailure":[]}'
    const res = await call(sb.httpUrl, 'POST', `/v4/app/${IDS.failingApp}/reload`, {
      body,
      headers: { 'X-HTTP-Method-Override': 'PUT', 'content-type': 'application/json' },
    })
    expect(res.status, res.text).toBe(201)
    expect(res.json).toEqual({ appId: IDS.failingApp })
    const jobs = await client.request<{ jobs: { capability: string; result?: { partial: boolean } }[] }>('job/list')
    await expect
      .poll(async () => {
        const list = await client.request<{
          jobs: { state: string; result?: { partial: boolean; success: boolean } }[]
        }>('job/list', { capability: 'app/reload' })
        return list.status === 'ok' ? list.data.jobs[0]?.result : undefined
      })
      .toMatchObject({ partial: true, success: true })
    expect(jobs.status).toBe('ok')
  })

  it('ReloadSenseApp replayed byte for byte: the body the sub builds, no Content-Type → 201, reloaded', async () => {
    const sub = readFileSync(new URL('../fixtures/butler/reload-sense-app.qvs', import.meta.url), 'utf8')
    const body = reloadSenseAppBody(sub, {
      vPartialReload: 'true',
      vReloadMode: '0',
      vStartQSEoWTaskOnSuccess: `["${IDS.etlTask}"]`,
      vStartQSEoWTaskOnFailure: '[]',
    })
    expect(body).toBe(
      `{"partialReload":"true", "reloadMode":0, "startQSEoWTaskOnSuccess":["${IDS.etlTask}"], ` +
        '"startQSEoWTaskOnFailure":[]}',
    )
    const host = new URL(sb.httpUrl).host
    // What Qlik's REST connector puts on the wire for the sub: POST, the override header, no Content-Type.
    const request =
      `POST /v4/app/${IDS.failingApp}/reload HTTP/1.1\r\nHost: ${host}\r\nX-HTTP-Method-Override: PUT\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
    const startsBefore = taskStarts().length
    const answer = await rawHttp(sb.httpUrl, request, 10_000)
    expect(answer.split('\r\n')[0], answer).toBe('HTTP/1.1 201 Created')
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({ appId: IDS.failingApp })
    await expect
      .poll(async () => {
        const list = await client.request<{ jobs: { result?: { partial: boolean; success: boolean } }[] }>('job/list', {
          capability: 'app/reload',
        })
        return list.status === 'ok' ? list.data.jobs[0]?.result : undefined
      })
      .toMatchObject({ partial: true, success: true })
    await expect.poll(() => taskStarts().slice(startsBefore).join()).toContain(IDS.etlTask)
  })

  it('GET /v4/app/:appId/dump and /v4/senseappdump/:appId → 200 with the dump keys', async () => {
    for (const path of [`/v4/app/${IDS.salesApp}/dump`, `/v4/senseappdump/${IDS.salesApp}`]) {
      const res = await call(sb.httpUrl, 'GET', path, { timeoutMs: 10_000 })
      expect(res.status, res.text).toBe(200)
      expect(res.json).toMatchObject({ appId: IDS.salesApp, loadScript: expect.any(String), sheets: expect.any(Array) })
    }
  })
})

/**
 * The body ReloadSenseApp sends, built the way Qlik builds it: the sub's own `let vRequestBody = '…'`
 * line with the parameters expanded (task-id lists with their quotes doubled, as the sub does), then the
 * doubled quotes of the connector's BODY "…" string read back as single ones.
 */
function reloadSenseAppBody(qvs: string, params: Record<string, string>): string {
  const sub = qvs.slice(qvs.indexOf('sub ReloadSenseApp('))
  const template = /let vRequestBody = '(.*)';/.exec(sub)?.[1]
  if (!template) throw new Error('ReloadSenseApp no longer builds vRequestBody the expected way')
  const doubled = new Set(['vStartQSEoWTaskOnSuccess', 'vStartQSEoWTaskOnFailure'])
  const expanded = template.replace(/\$\((\w+)\)/g, (_, name: string) => {
    const value = params[name]
    if (value === undefined) throw new Error(`no value for $(${name})`)
    return doubled.has(name) ? value.replaceAll('"', '""') : value
  })
  if (!/BODY "\$\(vRequestBody\)"/.test(sub)) throw new Error('ReloadSenseApp no longer sends BODY "$(vRequestBody)"')
  if (/HTTPHEADER "Content-Type"/i.test(sub))
    throw new Error('ReloadSenseApp now sends a Content-Type: update the replay')
  return expanded.replaceAll('""', '"')
}
