import type { SimModel } from '../model/store.js'
import type { IncomingHttpHeaders } from 'node:http'

/** QLIK-PROTOCOLS §1.3: 16 characters from 0-9, a-z, A-Z. */
const XRFKEY_RE = /^[A-Za-z0-9]{16}$/

/**
 * The anti-XSRF check in front of every route and method: the `xrfkey` query parameter (name matched
 * case-insensitively by the caller's parseQuery) must equal the `X-Qlik-Xrfkey` header.
 */
export function xrfkeyValid(queryKey: string | undefined, headers: IncomingHttpHeaders): boolean {
  const header = headers['x-qlik-xrfkey']
  const headerKey = Array.isArray(header) ? header[0] : header
  if (!queryKey || !headerKey) return false
  return XRFKEY_RE.test(queryKey) && queryKey === headerKey
}

export interface QlikUser {
  directory: string
  userId: string
}

/** §1.2: `UserDirectory=<dir>; UserId=<id>`, optional spaces, any case. */
const USER_RE = /UserDirectory\s*=\s*([^;]+);\s*UserId\s*=\s*(.+)/i

export function parseQlikUser(value: string | string[] | undefined): QlikUser | null {
  const raw = Array.isArray(value) ? value[0] : value
  if (!raw) return null
  const match = USER_RE.exec(raw)
  if (!match) return null
  return { directory: (match[1] as string).trim(), userId: (match[2] as string).trim() }
}

export function userLabel(user: QlikUser): string {
  return `${user.directory}\\${user.userId}`
}

/**
 * `DIR\userid` as the repository stores the user, not as the caller spelled its header: executions,
 * datagrams and script logs name the stored user. A user QRS does not know keeps the header spelling
 * (a real site would create it on first sight, spelled as it arrived).
 */
export function storedUserLabel(model: SimModel, user: QlikUser): string {
  const stored = model.findUser(user.directory, user.userId)
  return stored ? `${stored.userDirectory}\\${stored.userId}` : userLabel(user)
}
