import { readFileSync } from 'node:fs'
import { runInNewContext } from 'node:vm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sha256Hash } from '../../src/security/hash.js'
import { startTaskRig, TASKS, type TaskRig } from '../task/task-harness.js'
import { call } from './http-helpers.js'

const PAGE = new URL('../../src/http/examples/start-task.html', import.meta.url)
const ORIGIN = 'https://intranet.example'
const TOKEN = 'page-token-0123456789abcdef'

/**
 * The example page's own script, run against a stub DOM whose fetch behaves as a browser's for a
 * cross-origin request: a preflight for the headers the page sends, then the request with Origin, and
 * the answer handed to the page only when sensebus allows the origin. Taken from the page itself, so the
 * spec fails when the page drifts from what sensebus accepts.
 */
async function submitPage(base: string, inputs: { token: string; taskId: string }, origin: string) {
  const html = readFileSync(PAGE, 'utf8')
  const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] as string)
  expect(scripts).toHaveLength(1)
  const elements: Record<string, Record<string, unknown>> = {
    base: { value: `${base}/` },
    token: { value: inputs.token },
    'task-id': { value: ` ${inputs.taskId} ` },
    result: { textContent: '' },
    'start-task': {},
  }
  let onSubmit: ((event: { preventDefault(): void }) => Promise<void>) | undefined
  elements['start-task'] = {
    addEventListener: (type: string, fn: typeof onSubmit) => type === 'submit' && (onSubmit = fn),
  }
  const sent: { url: string; init: { method: string; headers: Record<string, string>; body: string } }[] = []
  const fetch = async (url: string, init: (typeof sent)[number]['init']) => {
    sent.push({ url, init })
    const target = new URL(url)
    const path = target.pathname + target.search
    const headerNames = Object.keys(init.headers).map((h) => h.toLowerCase())
    const preflight = await call(base, 'OPTIONS', path, {
      headers: {
        origin,
        'access-control-request-method': init.method,
        'access-control-request-headers': headerNames.sort().join(','),
      },
    })
    const allowed = String(preflight.headers['access-control-allow-headers'] ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
    const preflightOk =
      preflight.status >= 200 &&
      preflight.status < 300 &&
      preflight.headers['access-control-allow-origin'] === origin &&
      String(preflight.headers['access-control-allow-methods']).includes(init.method) &&
      headerNames.every((h) => allowed.includes(h))
    if (!preflightOk) throw new TypeError('Failed to fetch')
    const res = await call(base, init.method, path, { headers: { ...init.headers, origin }, body: init.body })
    if (res.headers['access-control-allow-origin'] !== origin) throw new TypeError('Failed to fetch')
    return { ok: res.status >= 200 && res.status < 300, status: res.status, json: async () => JSON.parse(res.text) }
  }
  const document = { getElementById: (id: string) => elements[id] }
  runInNewContext(scripts[0] as string, { document, fetch, JSON })
  if (!onSubmit) throw new Error('the page registers no submit handler')
  let prevented = false
  await onSubmit({ preventDefault: () => (prevented = true) })
  expect(prevented).toBe(true)
  return { sent, shown: String(elements.result?.textContent) }
}

describe('the example page (src/http/examples/start-task.html): CORS and a token', { timeout: 30_000 }, () => {
  let rig: TaskRig
  const starts = () =>
    rig.sim.recorder
      .list('qrs')
      .map((c) => c.path)
      .filter((p) => p.includes(`/qrs/task/${TASKS.salesEtl}/start`)).length

  beforeAll(async () => {
    rig = await startTaskRig('example-page', {
      overrides: {
        'http.cors.origins': [ORIGIN],
        'security.tokens': [{ name: 'start-page', hash: sha256Hash(TOKEN), roles: ['loadscript'] }],
      },
    })
  })
  afterAll(async () => {
    await rig?.stop()
  })

  it('the preflight for what the page sends: 204, its origin, POST, authorization and content-type', async () => {
    const res = await call(rig.sb.httpUrl, 'OPTIONS', '/api/v1/task/start', {
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    })
    expect(res.status).toBe(204)
    expect(res.headers['access-control-allow-origin']).toBe(ORIGIN)
    expect(res.headers['access-control-allow-methods']).toMatch(/\bPOST\b/)
    expect(res.headers['access-control-allow-headers']).toMatch(/\bauthorization\b/)
    expect(res.headers['access-control-allow-headers']).toMatch(/\bcontent-type\b/)
  })

  it("the page's exact request, from a listed origin with a good token, starts the task as the token", async () => {
    const before = starts()
    const { sent, shown } = await submitPage(rig.sb.httpUrl, { token: TOKEN, taskId: TASKS.salesEtl }, ORIGIN)
    expect(sent).toEqual([
      {
        url: `${rig.sb.httpUrl}/api/v1/task/start`,
        init: {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` },
          body: JSON.stringify({ taskIds: [TASKS.salesEtl] }),
        },
      },
    ])
    expect(shown).toBe('Reload Sales ETL: started')
    expect(starts()).toBe(before + 1)
    const jobs = await rig.client.request<{ jobs: { owner: { tokenName?: string } }[] }>('job/list', {
      capability: 'task/start',
    })
    expect(jobs.status === 'ok' && jobs.data.jobs[0]?.owner.tokenName).toBe('start-page')
  })

  it('a wrong token: the page shows the 401 (the error carries the CORS header, so the page may read it)', async () => {
    const before = starts()
    const { shown } = await submitPage(rig.sb.httpUrl, { token: 'not-the-token', taskId: TASKS.salesEtl }, ORIGIN)
    expect(shown).toMatch(/^401 UNAUTHORIZED: /)
    expect(starts()).toBe(before)
  })

  it('an origin not in http.cors.origins: the preflight grants nothing, the request is never sent', async () => {
    const before = starts()
    const { shown } = await submitPage(
      rig.sb.httpUrl,
      { token: TOKEN, taskId: TASKS.salesEtl },
      'https://elsewhere.example',
    )
    expect(shown).toBe(`No answer from ${rig.sb.httpUrl}: Failed to fetch`)
    expect(starts()).toBe(before)
  })
})
