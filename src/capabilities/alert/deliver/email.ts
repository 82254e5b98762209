import type { MailService } from '../../../services/mail.js'
import type { Outbox } from '../../../services/outbox/index.js'

export const EMAIL_KIND = 'alert-email'

export interface EmailPayload {
  to: string
  from?: string
  subject: string
  html: string
  text: string
  priority: 'high' | 'normal' | 'low'
  /** Stays the same on every attempt: a duplicate mail is recognisable by it. */
  messageId: string
}

export function registerEmail(outbox: Outbox, mail: MailService): void {
  outbox.register<EmailPayload>(EMAIL_KIND, async (item) => {
    const p = item.payload
    const receipt = await mail.send({
      to: [p.to],
      ...(p.from ? { from: p.from } : {}),
      subject: p.subject,
      html: p.html,
      text: p.text,
      priority: p.priority,
      messageId: p.messageId,
      headers: { 'X-Sensebus-Alert': String(item.meta.alertId ?? '') },
    })
    return { messageId: receipt.messageId, response: receipt.response }
  })
}
