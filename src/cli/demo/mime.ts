/**
 * Just enough MIME to show a received mail in the demo: headers (folded lines, RFC 2047 encoded words) and
 * the first text/plain part, through multipart nesting and quoted-printable or base64. mailparser does it
 * all, but is a devDependency; what the demo cannot read it shows raw, and the .eml file keeps the rest.
 */

export interface MailView {
  subject: string
  to: string
  /** The text/plain part, decoded; '' when there is none. */
  text: string
}

interface Part {
  headers: Map<string, string>
  body: Buffer
}

function splitPart(raw: Buffer): Part {
  const end = raw.indexOf('\r\n\r\n')
  const head = raw.subarray(0, end < 0 ? raw.length : end).toString('latin1')
  const headers = new Map<string, string>()
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':')
    const name = line.slice(0, colon).trim().toLowerCase()
    if (colon > 0 && !headers.has(name)) headers.set(name, line.slice(colon + 1).trim())
  }
  return { headers, body: end < 0 ? Buffer.alloc(0) : raw.subarray(end + 4) }
}

function param(header: string, name: string): string | undefined {
  return new RegExp(`;\\s*${name}="?([^";]+)"?`, 'i').exec(header)?.[1]
}

function charsetOf(label: string | undefined): BufferEncoding {
  return /^(iso-8859-1|latin1|us-ascii)$/i.test(label ?? '') ? 'latin1' : 'utf8'
}

function quotedPrintable(text: string): Buffer {
  const bytes: number[] = []
  const soft = text.replace(/=\r?\n/g, '')
  for (let i = 0; i < soft.length; i++) {
    const hex = soft.slice(i + 1, i + 3)
    if (soft[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16))
      i += 2
    } else bytes.push(soft.charCodeAt(i) & 0xff)
  }
  return Buffer.from(bytes)
}

/** `=?UTF-8?Q?...?=` and `=?UTF-8?B?...?=` words, as nodemailer writes a non-ASCII subject. */
export function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_all, charset: string, kind: string, data: string) => {
      const bytes = kind.toUpperCase() === 'B' ? Buffer.from(data, 'base64') : quotedPrintable(data.replace(/_/g, ' '))
      return bytes.toString(charsetOf(charset))
    })
}

function textOf(part: Part, depth: number): string | undefined {
  const type = part.headers.get('content-type') ?? 'text/plain'
  const boundary = param(type, 'boundary')
  if (/^multipart\//i.test(type) && boundary && depth < 5) {
    const pieces = part.body.toString('latin1').split(`--${boundary}`).slice(1)
    for (const piece of pieces) {
      if (piece.startsWith('--')) break
      const found = textOf(splitPart(Buffer.from(piece.replace(/^\r\n/, ''), 'latin1')), depth + 1)
      if (found !== undefined) return found
    }
    return undefined
  }
  if (!/^text\/plain/i.test(type)) return undefined
  const encoding = (part.headers.get('content-transfer-encoding') ?? '7bit').toLowerCase()
  const body = part.body.toString('latin1')
  const bytes =
    encoding === 'base64'
      ? Buffer.from(body, 'base64')
      : encoding === 'quoted-printable'
        ? quotedPrintable(body)
        : part.body
  return bytes
    .toString(charsetOf(param(type, 'charset')))
    .replace(/\r\n/g, '\n')
    .trimEnd()
}

export function viewMail(raw: Buffer): MailView {
  const top = splitPart(raw)
  return {
    subject: decodeWords(top.headers.get('subject') ?? ''),
    to: decodeWords(top.headers.get('to') ?? ''),
    text: textOf(top, 0) ?? '',
  }
}
