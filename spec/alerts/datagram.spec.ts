import { describe, expect, it } from 'vitest'
import { parseDatagram } from '../../src/capabilities/alert/datagram.js'
import { emailRecipients } from '../../src/capabilities/alert/routing.js'
import { datagram } from './harness.js'

describe('the log appender datagram', () => {
  it.each([
    ['/scheduler-task-failed/', 'failed'],
    ['/scheduler-reload-failed/', 'failed'],
    ['/scheduler-task-aborted/', 'aborted'],
    ['/scheduler-task-success/', 'success'],
    ['/scheduler-task-success//', 'success'],
    ['/scheduler-reloadtask-success/', 'success'],
    ['/SCHEDULER-DISTRIBUTE/', 'distribute'],
  ] as const)('reads %s as %s', (type: string, kind: string) => {
    const r = parseDatagram(datagram({ type }))
    expect(r.ok && r.datagram.kind).toBe(kind)
  })

  it('keeps the event when the message holds a ;', () => {
    const r = parseDatagram(datagram({ message: 'Error: a;b;c' }))
    expect(r.ok && r.datagram.logMessage).toBe('Error: a;b;c')
  })

  it('strips control characters and cuts long fields', () => {
    const r = parseDatagram(datagram({ taskName: `A\u0000B\u001b${'x'.repeat(600)}` }), 100)
    expect(r.ok && r.datagram.taskName).toBe(`AB${'x'.repeat(98)}`)
  })

  it('refuses unknown types, short datagrams and bad GUIDs', () => {
    expect(parseDatagram(datagram({ type: '/engine-reload-failed/' })).ok).toBe(false)
    expect(parseDatagram('/scheduler-task-failed/;a;b').ok).toBe(false)
    expect(parseDatagram(datagram({ taskId: 'nope' })).ok).toBe(false)
  })
})

describe("Butler's email recipient rules", () => {
  const facts = {
    eventType: 'reload/failed',
    taskTags: [],
    taskCustomProperties: [
      { name: 'Butler_FailedAlertEnableEmail', value: 'Yes' },
      { name: 'Butler_FailedAlertSendToEmail', value: 'task@example.com' },
    ],
    appStreamName: '',
    appOwnerUserDirectory: 'LAB',
    appOwnerUserId: 'goran',
    appOwnerEmail: 'goran@example.com',
  }
  const base = { enabled: true, recipients: ['ops@example.com', 'bad address'], priority: 'high' as const }

  it('mails the task addresses, the opted-in recipients and the included owner, once each', () => {
    const r = emailRecipients(
      {
        ...base,
        enableByCustomProperty: { enabled: true, value: 'Yes' },
        appOwner: { enabled: true, includeAll: true, include: [], exclude: [] },
      },
      facts,
    )
    expect(r.to).toEqual(['task@example.com', 'ops@example.com', 'goran@example.com'])
    expect(r.invalid).toEqual(['bad address'])
  })

  it('leaves out the recipients when the task did not opt in, and an excluded owner', () => {
    const r = emailRecipients(
      {
        ...base,
        enableByCustomProperty: { enabled: true, value: 'Yes' },
        appOwner: { enabled: true, includeAll: true, include: [], exclude: [{ directory: 'lab', userId: 'GORAN' }] },
      },
      { ...facts, taskCustomProperties: [] },
    )
    expect(r.to).toEqual([])
  })
})
