import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect } from '../helpers/client.js'
import { control, IDS } from '../sim/sim-harness.js'
import {
  type AlertRig,
  type HookReceiver,
  type Mailbox,
  startAlertRig,
  startHookReceiver,
  startMailbox,
} from './harness.js'

/**
 * The field names templates/README.md documents, read from its "Fields" section: group contents
 * (`[{name,value}]`, `(why)`) and the intro sentences are dropped, the names are what is left.
 */
function documentedFields(): string[] {
  const readme = readFileSync(new URL('../../templates/README.md', import.meta.url), 'utf8')
  let text = readme.slice(readme.indexOf('## Fields'))
  text = text.slice(text.indexOf(':\n') + 2).replace('Ours:', ',')
  for (let before = ''; before !== text; ) {
    before = text
    text = text.replace(/\([^()]*\)|\[[^[\]]*\]|\{[^{}]*\}|`[^`]*`|'[^']*'/g, '')
  }
  return text
    .split(/[,\n]|\.(?=\s|$)/)
    .map((s) => s.trim())
    .filter((s) => /^[a-z][A-Za-z0-9]*$/.test(s))
}

/**
 * Every documented template field rendered from a real alert (the simulator fails a task, sensebus
 * enriches it from QRS) through a user template; and a broken chat template still sends the basic text.
 */
describe('template fields', () => {
  let rig: AlertRig
  let box: Mailbox
  let chat: HookReceiver
  const fields = documentedFields()
  const templates = mkdtempSync(join(tmpdir(), 'alerts2-fields-'))

  beforeAll(async () => {
    box = await startMailbox()
    chat = await startHookReceiver()
    mkdirSync(join(templates, 'alert/email'), { recursive: true })
    mkdirSync(join(templates, 'alert/slack'), { recursive: true })
    // One line per documented field, its value as JSON, so every value is comparable.
    writeFileSync(
      join(templates, 'alert/email/task.txt.eta'),
      fields.map((f) => `${f}=<%~ JSON.stringify(it.${f}) %>\n`).join(''),
    )
    writeFileSync(join(templates, 'alert/slack/formatted.txt.eta'), '<%= it.noSuchField.boom %>')
    rig = await startAlertRig('fields', {
      'templates.dir': templates,
      'mail.smtp': { host: '127.0.0.1', port: box.port },
      'capabilities.alert.email': { 'reload/failed': { recipients: ['ops@example.com'] } },
      'capabilities.alert.destinations': { chat: { type: 'slack', url: chat.url } },
      'capabilities.alert.rules': [{ events: ['reload/failed'], destinations: ['chat'] }],
      'capabilities.alert.links': {
        qmc: 'https://sense.example.com/qmc',
        hub: 'https://sense.example.com/hub',
        appBase: 'https://sense.example.com/sense/app',
        generic: [{ id: 'runbook', linkText: 'Runbook', comment: 'what to do', url: 'https://wiki.example.com/rb' }],
      },
    })
  }, 40_000)
  afterAll(async () => {
    await rig?.close()
    await box?.close()
    await chat?.close()
    await rm(templates, { recursive: true, force: true })
  })

  it('documents exactly the fields templates receive', async () => {
    expect(fields.length).toBeGreaterThan(60)
    expect(new Set(fields).size).toBe(fields.length)
    const client = await connect(rig.sb.mqttUrl)
    const events = await client.collect('sense/event/reload/failed')
    const failures = await client.collect('sense/event/alert/template-failed')
    await control(rig.sim, 'POST', `tasks/${IDS.failingTask}/trigger`, {})
    await expect.poll(() => events.length, { timeout: 20_000 }).toBe(1)
    const data = JSON.parse(events[0]?.payload ?? '{}').data as Record<string, unknown>
    expect(Object.keys(data).sort()).toEqual([...fields].sort())

    // Every field rendered with the alert's value.
    await expect.poll(() => box.mails.length, { timeout: 20_000 }).toBe(1)
    const text = box.mails[0]?.text ?? ''
    for (const f of fields) expect(text, f).toContain(`${f}=${JSON.stringify(data[f])}\n`)
    // The enriched ones are real examples, not blanks.
    expect(data).toMatchObject({
      appOwnerEmail: 'goran@example.com',
      taskTags: ['Butler demo'],
      appUrl: `https://sense.example.com/sense/app/${data.appId}`,
      qlikSenseQMC: 'https://sense.example.com/qmc',
      genericUrls: [{ id: 'runbook', linkText: 'Runbook', comment: 'what to do', url: 'https://wiki.example.com/rb' }],
      incomplete: false,
    })
    for (const f of ['appOwnerName', 'executionStatusText', 'scriptLogHead', 'scriptLogTail', 'executingNodeName'])
      expect(data[f], f).not.toBe('')
    expect((data.executionStartTime as { startTimeUTC: string }).startTimeUTC).not.toBe('')

    // The broken Slack template: the basic text went out, and the failure was reported.
    await expect.poll(() => chat.calls.length, { timeout: 20_000 }).toBe(1)
    const slack = JSON.parse(chat.calls[0]?.body ?? '{}')
    expect(JSON.stringify(slack.blocks)).toContain(`Execution: ${data.executionId}`)
    await expect.poll(() => failures.length, { timeout: 10_000 }).toBe(1)
    const reported = JSON.parse(failures[0]?.payload ?? '{}').data as { alertId: string; errors: string[] }
    expect(reported.alertId).toBe(data.alertId)
    expect(reported.errors.join('\n')).toMatch(/^chat: body: .*'boom'/m)
    await client.end()
  }, 60_000)
})
