import type { TemplateService } from '../../services/templates.js'
import type { EmailEventConfig } from './config.js'
import type { EmailPayload } from './deliver/email.js'
import type { AlertFields } from './fields.js'
import { basicHtml, basicSubject, basicText, pickTemplate, renderOr } from './render.js'

/** Template data: Butler's fields plus the event's title. */
export type AlertData = AlertFields & { eventTitle: string }

export interface Built<T> {
  payload: T
  templateErrors: string[]
}

const [domainOf, whatOf] = [(t: string) => t.split('/')[0] ?? '', (t: string) => t.split('/')[1] ?? '']

/**
 * Subject, HTML and text from templates (eta, user folder first): `alert/email/<domain>-<what>` if such a
 * file exists, else the shared `alert/email/task`. Any part that fails falls back to the built-in text.
 */
export function emailPayload(
  templates: TemplateService,
  cfg: EmailEventConfig | undefined,
  data: AlertData,
  to: string,
  messageId: string,
): Built<EmailPayload> {
  const specific = `alert/email/${domainOf(data.eventType)}-${whatOf(data.eventType)}`
  const errors: string[] = []
  const note = 'The alert template could not be rendered; this is the built-in message.'
  const track = <T>(what: string, r: { value: T; error?: string }) => {
    if (r.error) errors.push(`${what}: ${r.error}`)
    return r.value
  }
  const subject = track(
    'subject',
    renderOr(
      () =>
        (cfg?.subject
          ? templates.renderString(cfg.subject, data, 'text')
          : templates.render(
              pickTemplate(templates, [`${specific}-subject.txt`, 'alert/email/subject.txt']),
              data,
              'text',
            )
        ).trim(),
      () => basicSubject(data),
    ),
  )
  const htmlName = cfg?.template ?? pickTemplate(templates, [specific, 'alert/email/task'])
  const textName = cfg?.template
    ? `${cfg.template}.txt`
    : pickTemplate(templates, [`${specific}.txt`, 'alert/email/task.txt'])
  const html = track(
    'html',
    renderOr(
      () => templates.render(htmlName, data, 'html'),
      () => basicHtml(data, note),
    ),
  )
  const text = track(
    'text',
    renderOr(
      () => templates.render(textName, data, 'text'),
      () => basicText(data, note),
    ),
  )
  return {
    payload: {
      to,
      ...(cfg?.from ? { from: cfg.from } : {}),
      subject: subject.replace(/[\r\n]+/g, ' '),
      html,
      text,
      priority: cfg?.priority ?? 'high',
      messageId,
    },
    templateErrors: errors,
  }
}

/** Butler's outgoing webhook fields (BUTLER-REFERENCE §3.5), plus ours; every value a string. */
export function webhookBody(data: AlertData): Record<string, string> {
  const [domain, what] = [domainOf(data.eventType), whatOf(data.eventType)]
  return {
    event: `Qlik Sense ${domain} ${what}`,
    eventType: data.eventType,
    alertId: data.alertId,
    hostName: data.hostName,
    user: data.user,
    taskName: data.taskName,
    taskId: data.taskId,
    appName: data.appName,
    appId: data.appId,
    appOwnerName: data.appOwnerName,
    appOwnerUserDirectory: data.appOwnerUserDirectory,
    appOwnerUserId: data.appOwnerUserId,
    appOwnerEmail: data.appOwnerEmail,
    logTimeStamp: data.logTimeStamp,
    logLevel: data.logLevel,
    executionId: data.executionId,
    logMessage: data.logMessage,
    incomplete: String(data.incomplete),
    suppressedCount: String(data.suppressedCount),
  }
}

/** Butler's `qliksense/task_failure_full` payload (BUTLER-REFERENCE §2.4); aborts add the app. */
export function butlerFullPayload(data: AlertData, task: unknown, app: unknown, withApp: boolean) {
  return {
    hostName: data.hostName,
    user: data.user,
    taskName: data.taskName,
    taskId: data.taskId,
    appName: data.appName,
    appId: data.appId,
    logTimeStamp: data.logTimeStamp,
    logLevel: data.logLevel,
    executionId: data.executionId,
    logMessage: data.logMessage,
    qs_appTags: data.appTags,
    qs_appCustomProperties: data.appCustomProperties,
    qs_taskTags: data.taskTags,
    qs_taskCustomProperties: data.taskCustomProperties,
    qs_taskMetadata: task ?? {},
    ...(withApp ? { qs_appMetadata: app ?? {} } : {}),
  }
}
