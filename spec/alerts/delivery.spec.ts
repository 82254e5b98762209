import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { connect } from '../helpers/client.js'
import { datagram, type HookReceiver, type Mailbox, sendDatagram, startHookReceiver, startMailbox } from './harness.js'

/** Without Sense: the alert still goes out, marked incomplete; receivers fail and come back. */
describe('alert delivery through the outbox', () => {
  let box: Mailbox
  let hook: HookReceiver
  let chat: HookReceiver
  let sb: TestApp
  const templates = mkdtempSync(join(tmpdir(), 'sensebus-alert-tpl-'))

  beforeAll(async () => {
    box = await startMailbox()
    hook = await startHookReceiver()
    chat = await startHookReceiver()
    mkdirSync(join(templates, 'alert/email'), { recursive: true })
    // A user override that throws: the built-in basic message must go out instead.
    writeFileSync(join(templates, 'alert/email/task.eta'), '<%= it.noSuchField.boom %>')
    sb = await startTestApp({
      overrides: {
        'templates.dir': templates,
        'mail.smtp': { host: '127.0.0.1', port: box.port, timeoutMs: 2000 },
        'outbox.baseDelayMs': 50,
        'outbox.maxDelayMs': 300,
        'capabilities.alert.rateLimitMs': 0,
        'capabilities.alert.destinations': {
          hook: { type: 'webhook', url: hook.url, method: 'PUT' },
          mail: { type: 'email', to: ['oncall@example.com'] },
          slack: { type: 'slack', url: `${chat.url}/slack` },
          teams: { type: 'teams', url: `${chat.url}/teams`, format: 'basic' },
        },
        'capabilities.alert.rules': [
          { events: ['reload/failed'], destinations: ['hook', 'mail'] },
          { events: ['reload/failed'], taskTags: ['nope'], destinations: ['hook'] },
          { events: ['reload/failed'], destinations: ['slack', 'teams'] },
        ],
      },
    })
  })
  afterAll(async () => {
    await sb?.stop({ clean: true })
    await box?.close()
    await hook?.close()
    await chat?.close()
  })

  it('delivers after SMTP refusals and webhook 500 / 429 with Retry-After, marked incomplete', async () => {
    const client = await connect(sb.mqttUrl)
    const receipts = await client.collect('sense/event/alert/+/+')
    const templateFailures = await client.collect('sense/event/alert/template-failed')
    box.failWith = 451
    hook.script.push({ status: 500 }, { status: 429, headers: { 'retry-after': '1' } })
    const r = await client.request('alert/test', { to: 'probe@example.com' })
    expect(r.status).toBe('ok')
    const executionId = crypto.randomUUID()
    const udp = await findUdpPort(client)
    await sendDatagram(udp, datagram({ executionId, message: 'Max retries reached; see log' }))
    await expect.poll(() => hook.calls.length, { timeout: 10_000 }).toBe(3)
    expect(hook.calls.map((c) => c.method)).toEqual(['PUT', 'PUT', 'PUT'])
    expect(JSON.parse(hook.calls[2]?.body ?? '{}')).toMatchObject({
      logMessage: 'Max retries reached; see log',
      incomplete: 'true',
    })
    await new Promise((res) => setTimeout(res, 500))
    expect(box.mails.length).toBe(0)
    box.failWith = undefined
    await expect.poll(() => box.mails.length, { timeout: 10_000 }).toBe(2)
    const mail = box.mails.find((m) => m.to.includes('oncall@example.com'))
    expect(mail?.text).toContain('could not be read from Qlik Sense')
    expect(mail?.html).toContain('built-in message')
    expect(mail?.messageId).toMatch(/@sensebus\.alert>$/)
    expect(templateFailures.length).toBeGreaterThanOrEqual(1)
    await expect
      .poll(() => receipts.filter((x) => x.topic === `sense/event/alert/${executionId}/delivered`).length)
      // webhook, mail, the MQTT event, Slack and Teams
      .toBe(5)
    expect(receipts.some((x) => x.topic === `sense/event/alert/${executionId}/failed`)).toBe(true)
    await expect.poll(() => chat.calls.length, { timeout: 10_000 }).toBe(2)
    const slack = JSON.parse(chat.calls.find((c) => c.url.startsWith('/hook/slack'))?.body ?? '{}')
    expect(slack.text).toBe('Reload task failed: "Manually triggered reload of Test failing reloads 2"')
    expect(JSON.stringify(slack.blocks)).toContain('Max retries reached; see log')
    const teams = JSON.parse(chat.calls.find((c) => c.url.startsWith('/hook/teams'))?.body ?? '{}')
    expect(teams.attachments[0].content.type).toBe('AdaptiveCard')
    expect(teams.attachments[0].content.body).toHaveLength(1)
    await client.end()
  }, 30_000)
})

/** The receiver's bound port (port 0 in tests): alert/list reports it. */
async function findUdpPort(client: Awaited<ReturnType<typeof connect>>): Promise<number> {
  const r = await client.request<{ receiver: { port: number } }>('alert/list', {})
  if (r.status !== 'ok') throw new Error('alert/list failed')
  return r.data.receiver.port
}
