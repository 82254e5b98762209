import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect } from '../helpers/client.js'
import { control, IDS } from '../sim/sim-harness.js'
import {
  type AlertRig,
  datagram,
  type HookReceiver,
  type Mailbox,
  sendDatagram,
  startAlertRig,
  startHookReceiver,
  startMailbox,
} from './harness.js'

describe('reload failure → enrichment → email, webhook and MQTT', () => {
  let rig: AlertRig
  let box: Mailbox
  let hook: HookReceiver

  beforeAll(async () => {
    box = await startMailbox()
    hook = await startHookReceiver()
    rig = await startAlertRig('flow', {
      'mail.smtp': { host: '127.0.0.1', port: box.port },
      'capabilities.alert.email': {
        'reload/failed': {
          recipients: ['ops@example.com'],
          enableByCustomProperty: { name: 'Butler_FailedTaskAlert', value: 'Failed reloads' },
          sendToCustomProperty: 'TaskOwnerEmail',
          appOwner: { includeAll: true },
        },
      },
      'capabilities.alert.destinations': { ops: { type: 'webhook', url: hook.url, headers: { 'x-token': 't1' } } },
      'capabilities.alert.rules': [{ events: ['reload/failed'], taskTags: ['Butler demo'], destinations: ['ops'] }],
      'capabilities.alert.mqtt.butlerTopics': true,
      'capabilities.alert.links.appBase': 'https://sense.example.com/sense/app',
    })
  }, 30_000)
  afterAll(async () => {
    await rig?.close()
    await box?.close()
    await hook?.close()
  })

  it('mails, calls the webhook and publishes when the simulator fails a task', async () => {
    const client = await connect(rig.sb.mqttUrl)
    const events = await client.collect('sense/event/reload/failed')
    const butler = await client.collect('qliksense/#')
    await control(rig.sim, 'POST', 'faults', { scriptLogOldRouteBroken: true })
    const started = await control(rig.sim, 'POST', `tasks/${IDS.failingTask}/trigger`, {})
    expect(started.status).toBe(200)

    await expect.poll(() => box.mails.length, { timeout: 20_000 }).toBe(2)
    const recipients = box.mails.flatMap((m) => m.to).sort()
    // ops by the task's opt-in property, goran from TaskOwnerEmail and as the app owner: once.
    expect(new Set(recipients)).toEqual(new Set(['goran@example.com', 'ops@example.com']))
    const mail = box.mails[0]
    expect(mail?.subject).toBe('Reload task failed: "Manually triggered reload of Test failing reloads 2"')
    expect(mail?.html).toContain('https://sense.example.com/sense/app/e7af59a0-c243-480d-9571-08727551a66f')
    // The script log came through the fallback route (the first one is broken by the fault switch).
    expect(mail?.text).toContain('Cannot open file')
    expect(mail?.text).not.toContain('details could not be read')

    await expect.poll(() => hook.calls.length, { timeout: 10_000 }).toBe(1)
    const call = hook.calls[0]
    expect(call?.method).toBe('POST')
    expect(call?.headers['x-token']).toBe('t1')
    expect(JSON.parse(call?.body ?? '{}')).toMatchObject({
      event: 'Qlik Sense reload failed',
      taskId: IDS.failingTask,
      appOwnerEmail: 'goran@example.com',
    })

    await expect.poll(() => events.length, { timeout: 10_000 }).toBe(1)
    const env = JSON.parse(events[0]?.payload ?? '{}')
    expect(env.type).toBe('sense.reload.failed')
    expect(env.data.taskTags).toEqual(['Butler demo'])
    expect(env.data.scriptLogTail).toContain('Execution Failed')
    await expect
      .poll(() => butler.map((b) => b.topic).sort())
      .toEqual(['qliksense/task_failure', 'qliksense/task_failure_full'])
    expect(butler.find((b) => b.topic === 'qliksense/task_failure')?.payload).toBe(
      'Manually triggered reload of Test failing reloads 2',
    )
    await client.end()
  }, 40_000)

  it('rate-limits per task and recipient, and ignores a repeated execution id, also after a restart', async () => {
    const executionId = crypto.randomUUID()
    const before = box.mails.length
    await sendDatagram(rig.udpPort, datagram({ executionId }))
    let client = await connect(rig.sb.mqttUrl)
    type List = { alerts: Array<{ id: string; counts: { suppressed: number } }>; receiver: { duplicates: number } }
    const list = async () => {
      const r = await client.request<List>('alert/list', {})
      if (r.status !== 'ok') throw new Error(JSON.stringify(r))
      return r.data
    }
    // Same task within the window: both mails and the webhook call are held back (and counted).
    await expect
      .poll(async () => (await list()).alerts.find((a) => a.id === executionId)?.counts.suppressed, { timeout: 10_000 })
      .toBe(3)
    expect(box.mails.length).toBe(before)
    await client.end()
    await rig.restart()
    client = await connect(rig.sb.mqttUrl)
    await sendDatagram(rig.udpPort, datagram({ executionId }))
    await expect.poll(async () => (await list()).receiver.duplicates, { timeout: 10_000 }).toBe(1)
    expect((await list()).alerts.filter((a) => a.id === executionId)).toHaveLength(1)
    await client.end()
  }, 40_000)
})
