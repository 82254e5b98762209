import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { runCli } from '../helpers/process.js'
import { startTaskRig, TASKS, type TaskRig } from '../task/task-harness.js'

/** Butler's doors that started tasks past its start-task filter: the MQTT topic, the scheduler, reloads. */
const BUTLER = {
  Butler: {
    startTaskFilter: {
      enable: true,
      allowTask: { taskId: [TASKS.salesEtl.toUpperCase()], tag: [], customProperty: [] },
    },
    mqttConfig: { enable: true, brokerHost: 'mqtt.example.com', taskStartTopic: 'qliksense/start_task' },
    scheduler: { enable: true, configfile: 'config/schedule.yaml' },
    restServerConfig: { enable: true, serverHost: '0.0.0.0', serverPort: 8081 },
    restServerEndpointsEnable: { senseStartTask: true, senseAppReload: true },
  },
}

const schedule = (name: string, id: string, taskId: string) => ({
  name,
  cronSchedule: '0 3 1 1 *',
  timezone: 'Europe/Stockholm',
  qlikSenseTaskId: taskId,
  startupState: 'started',
  tags: [],
  id,
  created: '2026-01-10T10:00:00.000Z',
  lastKnownState: 'started',
})
const LISTED = '0d6f64d8-1f6a-4c1e-9d55-6a4a0c1e0001'
const UNLISTED = '0d6f64d8-1f6a-4c1e-9d55-6a4a0c1e0002'

describe("import-butler: the start-task filter, the MQTT start topic and Butler's schedules", {
  timeout: 90_000,
}, () => {
  let rig: TaskRig | undefined
  afterAll(async () => {
    await rig?.stop()
  })

  it('maps them, says where the allow-list now holds, and a sensebus on the written config behaves so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sensebus-importbutler-tasks-'))
    const butler = join(dir, 'production.yaml')
    writeFileSync(butler, stringify(BUTLER))
    const schedules = join(dir, 'schedule.yaml')
    writeFileSync(
      schedules,
      stringify({
        butlerSchedule: [
          schedule('Nightly ETL', LISTED, TASKS.salesEtl),
          schedule('Nightly dashboard', UNLISTED, TASKS.salesDashboard),
        ],
      }),
    )
    const out = join(dir, 'sensebus.yaml')
    const run = await runCli(['config', 'import-butler', butler, '--schedules', schedules, '--out', out])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const task = parse(readFileSync(out, 'utf8')).capabilities.task
    expect(task).toEqual({
      allow: { enable: true, taskIds: [TASKS.salesEtl.toUpperCase()], tags: [], customProperties: [] },
      startTopic: { enable: true, topic: 'qliksense/start_task' },
    })
    expect(run.stdout).toContain(
      'startTaskFilter: carried over as capabilities.task.allow, which sensebus applies to every start; Butler ' +
        'applied it to its REST start endpoint only, not to the MQTT start topic (qliksense/start_task), ' +
        "schedules, app reloads' follow-up tasks.",
    )
    expect(run.stdout).toContain(`butlerSchedule[1] (Nightly dashboard): starts task ${TASKS.salesDashboard}, which`)
    expect(run.stdout).not.toContain('butlerSchedule[0] (Nightly ETL)')

    // The written allow-list and start topic on a real sensebus, with the simulator as Sense.
    rig = await startTaskRig('import-butler-tasks', {
      overrides: {
        'capabilities.task.allow': task.allow,
        'capabilities.task.startTopic': { ...task.startTopic, resultTopic: 'qliksense/start_task/result' },
      },
    })
    const url = rig.sb.mqttUrl
    const imported = await runCli([
      'request',
      'schedule/import',
      `@${join(dir, 'sensebus.schedules.json')}`,
      '--url',
      url,
    ])
    expect(imported.code, imported.stdout).toBe(0)
    const starts = (taskId: string) =>
      rig?.sim.recorder.list('qrs').filter((c) => c.path.includes(`/qrs/task/${taskId}/start`)).length
    const finished = await rig.client.collect('sense/event/schedule/+/finished')
    for (const id of [LISTED, UNLISTED])
      expect((await runCli(['request', 'schedule/run-now', JSON.stringify({ id }), '--url', url])).code).toBe(0)
    await expect.poll(() => finished.length).toBe(2)
    expect(starts(TASKS.salesEtl)).toBe(1)
    expect(starts(TASKS.salesDashboard)).toBe(0)

    // Butler's bare-GUID topic goes through the same list.
    const results = await rig.client.collect('qliksense/start_task/result')
    await rig.client.mqtt.publishAsync('qliksense/start_task', TASKS.salesDashboard, { qos: 1 })
    await expect.poll(() => results.length).toBe(1)
    expect(JSON.parse(results[0]?.payload ?? '{}')).toMatchObject({ status: 'ok', data: { counts: { denied: 1 } } })
    expect(starts(TASKS.salesDashboard)).toBe(0)
  })
})
