import { afterEach, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { connect } from '../helpers/client.js'
import { datagram, type Mailbox, sendDatagram, startMailbox } from './harness.js'

/** A burst of alerts through a real SMTP server: how many connections it takes (mail.smtp.pool). */
describe('SMTP connection pooling', () => {
  let box: Mailbox | undefined
  let sb: TestApp | undefined
  afterEach(async () => {
    await sb?.stop({ clean: true })
    await box?.close()
  })

  async function burst(smtp: Record<string, unknown>, count: number): Promise<Mailbox> {
    box = await startMailbox()
    sb = await startTestApp({
      overrides: {
        'mail.smtp': { host: '127.0.0.1', port: box.port, ...smtp },
        'capabilities.alert.enrichment.enabled': false,
        'capabilities.alert.rateLimitMs': 0,
        'capabilities.alert.email': { 'reload/failed': { recipients: ['ops@example.com'] } },
      },
    })
    const client = await connect(sb.mqttUrl)
    const list = await client.request<{ receiver: { port: number } }>('alert/list', {})
    if (list.status !== 'ok') throw new Error('alert/list failed')
    for (let i = 0; i < count; i++)
      await sendDatagram(list.data.receiver.port, datagram({ taskId: crypto.randomUUID(), taskName: `Task ${i}` }))
    const mailbox = box
    await expect.poll(() => mailbox.mails.length, { timeout: 20_000 }).toBe(count)
    await client.end()
    return mailbox
  }

  it('sends a burst over at most maxConnections connections', async () => {
    const mailbox = await burst({ maxConnections: 2 }, 30)
    expect(mailbox.connections).toBeGreaterThanOrEqual(1)
    expect(mailbox.connections).toBeLessThanOrEqual(2)
    expect(new Set(mailbox.mails.map((m) => m.messageId)).size).toBe(30)
  }, 40_000)

  it('replaces a connection after maxMessages mails', async () => {
    const mailbox = await burst({ maxConnections: 1, maxMessages: 5 }, 12)
    // 12 mails, 5 per connection: 3 connections, one after the other.
    expect(mailbox.connections).toBe(3)
  }, 40_000)

  it('opens one connection per mail with pool: false', async () => {
    const mailbox = await burst({ pool: false }, 6)
    expect(mailbox.connections).toBe(6)
  }, 40_000)
})
