import { type Static, Type } from '@sinclair/typebox'
import type { Transporter } from 'nodemailer'
import { CapabilityError } from '../core/errors.js'
import { limit, section } from '../core/schema.js'
import { defineService } from './define.js'
import { DeliveryError } from './outbox/errors.js'

export interface MailMessage {
  to: string[]
  cc?: string[]
  from?: string
  subject: string
  text?: string
  html?: string
  /** Also the idempotency key: a retried message keeps its Message-ID, so duplicates are recognisable. */
  messageId?: string
  priority?: 'high' | 'normal' | 'low'
  headers?: Record<string, string>
}

export interface MailReceipt {
  messageId: string
  accepted: string[]
  rejected: string[]
  response: string
}

export interface MailService {
  readonly configured: boolean
  readonly from: string
  /** Throws DeliveryError: permanent for 5xx answers and bad addresses, retryable for the rest. */
  send(message: MailMessage): Promise<MailReceipt>
  close(): void
}

declare module '../core/services.js' {
  interface Services {
    mail: MailService
  }
}

export const mailConfigSchema = section({
  from: Type.String({ minLength: 3, default: 'sensebus <sensebus@localhost>', description: 'Default sender' }),
  smtp: Type.Optional(
    Type.Object(
      {
        host: Type.String({ minLength: 1 }),
        port: Type.Integer({ minimum: 1, maximum: 65535, default: 587 }),
        secure: Type.Boolean({
          default: false,
          description: 'TLS from the start (port 465); otherwise STARTTLS when offered',
        }),
        requireTLS: Type.Boolean({ default: false, description: 'Refuse to send unless STARTTLS succeeds' }),
        rejectUnauthorized: Type.Boolean({ default: true }),
        user: Type.Optional(Type.String({ minLength: 1 })),
        password: Type.Optional(Type.String()),
        timeoutMs: Type.Integer({ minimum: 100, default: 30_000 }),
        pool: Type.Boolean({
          default: true,
          description: 'Keep connections open and send the next mails over them; false: one connection per mail',
        }),
        maxConnections: limit(5, 'SMTP connections open at once (pool); more mails wait for one'),
        maxMessages: limit(100, 'Mails over one pooled connection before it is replaced by a fresh one'),
      },
      { additionalProperties: false, description: 'The SMTP server mail goes through; no smtp = no mail' },
    ),
  ),
})
export type MailConfig = Static<typeof mailConfigSchema>

/** SMTP reply codes mean "never" from 500 up; 4xx and connection trouble are worth another try. */
function toDeliveryError(err: unknown): DeliveryError {
  const e = err as Error & { responseCode?: number; code?: string }
  const permanent = (e.responseCode !== undefined && e.responseCode >= 500) || e.code === 'EENVELOPE'
  return new DeliveryError(`SMTP: ${e.message}`, { permanent, cause: err })
}

export const mailService = defineService<'mail', MailConfig>({
  name: 'mail',
  configSchema: mailConfigSchema,
  async create({ config }) {
    const smtp = config.smtp
    let transport: Transporter | undefined
    if (smtp) {
      // A burst of alerts (a failing reload chain, the end of an outage) then takes a few connections, not
      // one per mail: each costs a TCP (and TLS) handshake and, for many servers, counts against a rate limit.
      // Loaded only when mail is configured: nodemailer is ~2 MB of heap an instance without SMTP never uses.
      const { default: nodemailer } = await import('nodemailer')
      transport = nodemailer.createTransport({
        ...(smtp.pool ? { pool: true, maxConnections: smtp.maxConnections, maxMessages: smtp.maxMessages } : {}),
        host: smtp.host,
        port: smtp.port,
        secure: smtp.secure,
        requireTLS: smtp.requireTLS,
        tls: { rejectUnauthorized: smtp.rejectUnauthorized },
        connectionTimeout: smtp.timeoutMs,
        greetingTimeout: smtp.timeoutMs,
        socketTimeout: smtp.timeoutMs,
        ...(smtp.user ? { auth: { user: smtp.user, pass: smtp.password ?? '' } } : {}),
      })
    }
    return {
      configured: transport !== undefined,
      from: config.from,
      async send(message) {
        if (!transport) throw new CapabilityError('NOT_CONFIGURED', 'Mail is not configured: set mail.smtp.host')
        try {
          const info = await transport.sendMail({
            from: message.from ?? config.from,
            to: message.to,
            ...(message.cc ? { cc: message.cc } : {}),
            subject: message.subject,
            ...(message.text !== undefined ? { text: message.text } : {}),
            ...(message.html !== undefined ? { html: message.html } : {}),
            ...(message.messageId ? { messageId: message.messageId } : {}),
            ...(message.priority ? { priority: message.priority } : {}),
            ...(message.headers ? { headers: message.headers } : {}),
          })
          const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : [])
          return {
            messageId: info.messageId,
            accepted: list(info.accepted),
            rejected: list(info.rejected),
            response: info.response,
          }
        } catch (err) {
          throw toDeliveryError(err)
        }
      },
      close: () => transport?.close(),
    }
  },
  async stop(service) {
    service.close()
  },
})
