import type { TemplateService } from '../../services/templates.js'

/**
 * Rendering that never loses an alert: a template that is missing or throws is reported (`error`) and
 * the built-in plain message goes out instead.
 */

export interface Rendered<T> {
  value: T
  /** Why the built-in fallback was used. */
  error?: string
}

export function renderOr<T>(render: () => T, fallback: () => T): Rendered<T> {
  try {
    return { value: render() }
  } catch (err) {
    return { value: fallback(), error: err instanceof Error ? err.message : String(err) }
  }
}

/** The first template of the list that exists (user override folder first, then the shipped one). */
export function pickTemplate(templates: TemplateService, names: string[]): string {
  return names.find((n) => templates.exists(n)) ?? (names[names.length - 1] as string)
}

interface BasicFields {
  eventTitle: string
  taskName: string
  taskId: string
  appName: string
  appId: string
  hostName: string
  user: string
  logTimeStamp: string
  logMessage: string
  executionId: string
  suppressedCount: number
  incomplete: boolean
  problems: string[]
  scriptLogTail: string
}

/** The built-in message: plain, code-only, so it works when every template is broken. */
export function basicSubject(f: BasicFields): string {
  return `${f.eventTitle}: "${f.taskName}"`
}

export function basicText(f: BasicFields, note?: string): string {
  const lines = [
    `${f.eventTitle}`,
    '',
    `Task: ${f.taskName} (${f.taskId})`,
    `App: ${f.appName || '-'} ${f.appId ? `(${f.appId})` : ''}`.trimEnd(),
    `Host: ${f.hostName}`,
    `User: ${f.user}`,
    `Time: ${f.logTimeStamp}`,
    `Message: ${f.logMessage}`,
    `Execution: ${f.executionId}`,
  ]
  if (f.suppressedCount > 0) lines.push('', `${f.suppressedCount} more alerts of this task were suppressed.`)
  if (f.incomplete) lines.push('', `Details are incomplete: ${f.problems.join('; ')}`)
  if (f.scriptLogTail) lines.push('', 'Script log (end):', f.scriptLogTail)
  if (note) lines.push('', note)
  return lines.join('\n')
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c] as string)

export function basicHtml(f: BasicFields, note?: string): string {
  return `<html><body><pre>${escapeHtml(basicText(f, note))}</pre></body></html>`
}
