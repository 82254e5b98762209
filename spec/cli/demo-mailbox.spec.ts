import nodemailer from 'nodemailer'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { viewMail } from '../../src/cli/demo/mime.js'
import { type SinkMail, type SmtpSink, startSmtpSink } from '../../src/cli/demo/smtp-sink.js'

/** The demo's built-in mail server and MIME reader, fed by nodemailer (what sensebus sends with) over TCP. */
describe('demo mailbox', () => {
  let sink: SmtpSink
  const mails: SinkMail[] = []
  beforeAll(async () => {
    sink = await startSmtpSink((m) => mails.push(m), { limits: { maxMessageBytes: 20_000 } })
  })
  afterAll(() => sink.close())
  const transport = () => nodemailer.createTransport({ host: '127.0.0.1', port: sink.port, secure: false })

  it('takes a mail and shows its subject, recipients and decoded text part', async () => {
    const text = `Grüße aus Malmö: the reload failed.\n.a line that starts with a dot\n${'x'.repeat(200)}`
    await transport().sendMail({
      from: 'sensebus <sb@demo.local>',
      to: ['a@demo.local', 'b@demo.local'],
      subject: 'Reload "Sälj" failed',
      text,
      html: '<p>html part</p>',
    })
    expect(mails).toHaveLength(1)
    const mail = mails[0] as SinkMail
    expect(mail.to).toEqual(['a@demo.local', 'b@demo.local'])
    const view = viewMail(mail.raw)
    expect(view.subject).toBe('Reload "Sälj" failed')
    expect(view.to).toBe('a@demo.local, b@demo.local')
    expect(view.text).toBe(text)
  })

  it('refuses a mail over the size limit with 552, and the connection still works', async () => {
    const t = transport()
    await expect(
      t.sendMail({ from: 'sb@demo.local', to: 'a@demo.local', subject: 'big', text: 'y'.repeat(30_000) }),
    ).rejects.toMatchObject({ responseCode: 552 })
    await t.sendMail({ from: 'sb@demo.local', to: 'a@demo.local', subject: 'small', text: 'ok' })
    expect(viewMail((mails.at(-1) as SinkMail).raw).subject).toBe('small')
  })
})
