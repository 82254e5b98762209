import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../helpers/process.js'
import { IDS } from '../sim/sim-harness.js'
import { startTaskRig, TASKS, type TaskRig } from '../task/task-harness.js'

/** `sensebus request … --wait` as a real process against sensebus and the Sense simulator. */
describe('sensebus request --wait: progress on stderr, the final envelope on stdout', { timeout: 60_000 }, () => {
  let rig: TaskRig
  let url: string
  const wait = (capability: string, body: object, ...extra: string[]) =>
    runCli(['request', capability, JSON.stringify(body), '--wait', '--url', url, ...extra])

  beforeAll(async () => {
    rig = await startTaskRig('cli-wait', {
      durationMs: 400,
      overrides: { 'capabilities.app.progressPollMs': 50, 'capabilities.task.scriptLogTailLines': 5 },
    })
    url = rig.sb.mqttUrl
  })
  afterAll(async () => {
    await rig?.stop()
  })

  it('task/start: the job, then each status change of the run, then the completed envelope', async () => {
    const r = await wait('task/start', { taskIds: [TASKS.salesEtl] })
    expect(r.code, r.stderr).toBe(0)
    const env = JSON.parse(r.stdout)
    expect(env).toMatchObject({ status: 'ok', data: { state: 'completed', allSucceeded: true } })
    expect(env.transaction).toMatch(/^cli-/)
    const lines = r.stderr.trim().split('\n')
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d job [0-9a-f-]{36} \(task\/start\) is running$/)
    expect(lines[0]).toContain(env.data.jobId)
    expect(lines.at(-1)).toMatch(/^\d\d:\d\d:\d\d job [0-9a-f-]{36} completed, every run succeeded$/)
    const runs = lines.slice(1, -1).map((l) => l.slice(9))
    expect(runs.at(-1)).toMatch(/^task 'Reload Sales ETL': FinishedSuccess after \d+\.\d s$/)
    // The run was seen while it ran, and each status is printed once.
    expect(runs.some((l) => /^task 'Reload Sales ETL': (Started|Triggered|Queued)/.test(l))).toBe(true)
    expect(new Set(runs).size).toBe(runs.length)
  })

  it('a failing run: FinishedFail with the end of its script log, still exit 0 (the envelope is ok)', async () => {
    const r = await wait('task/start', { taskIds: [TASKS.failing], transaction: 'mine-1' })
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ transaction: 'mine-1', status: 'ok', data: { allSucceeded: false } })
    expect(r.stderr).toMatch(/task '[^']+': FinishedFail/)
    expect(r.stderr).toMatch(/\n\d\d:\d\d:\d\d {5}\S+ Execution Failed\n/)
    expect(r.stderr).toMatch(/ job [0-9a-f-]{36} completed, a run failed\n$/)
  })

  it('app/reload: the engine progress lines as they come', async () => {
    rig.sim.faults.engineReloadMs = 500
    try {
      const r = await wait('app/reload', { appId: IDS.salesApp })
      expect(r.code, r.stderr).toBe(0)
      expect(JSON.parse(r.stdout)).toMatchObject({ status: 'ok', data: { success: true, saved: true } })
      expect(r.stderr).toMatch(/\(app\/reload\) is running/)
      expect(r.stderr).toContain('reload: Sales << sales_transactions')
      expect(r.stderr).toMatch(/ completed, the reload succeeded\n$/)
    } finally {
      rig.sim.faults.engineReloadMs = -1
    }
  })

  it('exit codes as without --wait: 0, 1 on an error envelope, 4 when the job outlasts --timeout', async () => {
    // A capability that runs no job: the plain answer, nothing on stderr.
    const ping = await wait('util/ping', {})
    expect(ping.code).toBe(0)
    expect(JSON.parse(ping.stdout)).toMatchObject({ status: 'ok' })
    expect(ping.stderr).toBe('')
    const missing = await wait('app/reload', { appId: '00000000-0000-4000-8000-000000000000' })
    expect(missing.code).toBe(1)
    expect(JSON.parse(missing.stdout)).toMatchObject({ status: 'error', error: { code: 'NOT_FOUND' } })
    rig.sim.faults.engineReloadMs = 3_000
    try {
      const slow = await wait('app/reload', { appId: IDS.salesApp }, '--timeout', '800')
      expect(slow.code).toBe(4)
      expect(slow.stdout).toBe('')
      expect(slow.stderr).toContain('No answer')
    } finally {
      rig.sim.faults.engineReloadMs = -1
    }
  })
})
