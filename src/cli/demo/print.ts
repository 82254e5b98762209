import type { MailView } from './mime.js'
import type { Received } from './receivers.js'

/** The demo's terminal output: one block per thing that happened, short enough to follow live. */

/** Mails and webhook bodies show this many lines; chat messages, which repeat the mail, fewer. */
const MAX_LINES = 30
const MAX_CHAT_LINES = 12
const WIDTH = 100

const clock = () => new Date().toTimeString().slice(0, 8)

export function block(title: string, lines: string[]): string {
  const head = `── ${clock()}  ${title} `
  return `\n${head}${'─'.repeat(Math.max(3, WIDTH - head.length))}\n${lines.map((l) => `  ${l}`).join('\n')}\n`
}

/** At most MAX_LINES lines of `text`, and how many were left out. */
function capped(text: string, where = '', max = MAX_LINES): string[] {
  const lines = text.split('\n')
  if (lines.length <= max) return lines
  return [...lines.slice(0, max), `… ${lines.length - max} more lines${where}`]
}

export function mailLines(mail: MailView, envelopeTo: string[], file: string): string[] {
  return [
    `To:      ${mail.to || envelopeTo.join(', ')}`,
    `Subject: ${mail.subject}`,
    `Saved:   ${file}`,
    '',
    ...capped(mail.text || '(no text part; see the .eml file)', ' in the .eml file'),
  ]
}

function parsed(body: string): unknown {
  try {
    return JSON.parse(body)
  } catch {
    return undefined
  }
}

interface SlackBlock {
  type?: string
  text?: { text?: string }
  elements?: Array<{ text?: { text?: string }; url?: string }>
}

export function slackLines(req: Received): string[] {
  const msg = parsed(req.body) as { text?: string; blocks?: SlackBlock[] } | undefined
  if (!msg) return capped(req.body)
  const lines = [`*${msg.text ?? ''}*`]
  for (const b of msg.blocks ?? []) {
    if (b.type === 'section' && b.text?.text) lines.push('', ...b.text.text.split('\n'))
    if (b.type === 'actions')
      lines.push('', ...(b.elements ?? []).map((e) => `[${e.text?.text ?? 'button'}] ${e.url ?? ''}`))
  }
  return capped(lines.join('\n'), '', MAX_CHAT_LINES)
}

/** The text of an Adaptive Card: text blocks, facts and actions, wherever they are nested. */
function cardText(node: unknown, out: string[]): void {
  if (Array.isArray(node)) for (const n of node) cardText(n, out)
  if (!node || typeof node !== 'object') return
  const n = node as Record<string, unknown>
  if (n.type === 'TextBlock' && typeof n.text === 'string') out.push(n.text, '')
  if (n.type === 'FactSet' && Array.isArray(n.facts))
    for (const f of n.facts as Array<{ title?: string; value?: string }>) out.push(`${f.title}: ${f.value}`)
  if (typeof n.type === 'string' && n.type.startsWith('Action.') && typeof n.title === 'string')
    out.push(`[${n.title}] ${typeof n.url === 'string' ? n.url : ''}`)
  for (const key of ['attachments', 'content', 'body', 'items', 'columns', 'actions']) cardText(n[key], out)
}

export function teamsLines(req: Received): string[] {
  const msg = parsed(req.body)
  if (!msg) return capped(req.body)
  const out: string[] = []
  cardText(msg, out)
  return capped(out.join('\n').trimEnd(), '', MAX_CHAT_LINES)
}

export function webhookLines(req: Received): string[] {
  const msg = parsed(req.body)
  const body = msg === undefined ? req.body : JSON.stringify(msg, null, 2)
  return [`${req.method} ${req.path}`, ...capped(body)]
}
