import { posix, win32 } from 'node:path'
import { CapabilityError } from '../../core/errors.js'

/**
 * How a path from a request becomes a native absolute path. Pure: no file system access, so every
 * rule is testable on any platform. Containment is decided later, on the real path.
 */
export interface PathRules {
  /** `win32` accepts drive letters and UNC paths natively; elsewhere they must be mapped. */
  platform: 'win32' | 'posix'
  /** Windows prefixes (`C:\QVD`, `\\fileserver\share`) and the local directories they stand for. */
  mappings: ReadonlyArray<{ from: string; to: string }>
  maxPathLength: number
  maxNameLength: number
}

// Names Windows reserves in every directory, with or without an extension (NUL.txt is NUL).
const DEVICE_NAME = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$|clock\$)(\..*)?$/i
// Characters Windows refuses in names; `*` and `?` would also read as wildcards, which Butler never had.
const WINDOWS_INVALID = /[<>:"|?*]/
// Percent-encoded dots, separators, NUL and overlong UTF-8 lead bytes: never decoded, so refused
// rather than stored as confusing literal names (`%23`, which Butler's load-script subs send for
// `#`, stays allowed).
const ENCODED_TRICK = /%(2e|2f|5c|00|c0|c1)|%e0%80/i
const DEVICE_NAMESPACE = /^[\\/]{2}[?.][\\/]|^\\\?\?\\/
const CONTROL = /[\u0000-\u001f\u007f]/
const DRIVE = /^[a-zA-Z]:/

const invalid = (message: string, path: string) =>
  new CapabilityError('VALIDATION_FAILED', message, { details: [{ path: '/', message: `${message}: ${path}` }] })

/** `\` and `/` are both separators, as on Windows and in Butler; runs of them collapse (a UNC `//` stays). */
export function slashes(path: string): string {
  const unified = path.replace(/\\/g, '/')
  const unc = /^\/\/[^/]/.test(unified)
  const collapsed = unified.replace(/\/{2,}/g, '/')
  return unc ? `/${collapsed}` : collapsed
}

/** Butler's normalised echo of a path (upath.normalizeSafe): forward slashes, `.` and `..` resolved. */
export function butlerForm(path: string): string {
  const s = slashes(path)
  const unc = s.startsWith('//')
  const n = posix.normalize(s)
  return unc && !n.startsWith('//') ? `/${n}` : n
}

function checkNames(segments: string[], original: string, rules: PathRules): void {
  for (const name of segments) {
    if (name === '' || name === '.' || name === '..') continue
    if (Buffer.byteLength(name) > rules.maxNameLength)
      throw invalid(`A name in the path is longer than ${rules.maxNameLength} bytes`, original)
    if (DEVICE_NAME.test(name)) throw invalid(`'${name}' is a Windows device name`, original)
    if (WINDOWS_INVALID.test(name)) throw invalid(`'${name}' contains a character Windows does not allow`, original)
    // Windows drops trailing dots and spaces, so `in.` and `in ` would name `in`.
    if (/[. ]$/.test(name)) throw invalid(`'${name}' ends in a dot or a space`, original)
  }
}

/** The mapping whose Windows prefix starts `path` (compared case-insensitively, at a separator). */
function mapped(path: string, rules: PathRules): string | undefined {
  const lower = path.toLowerCase()
  for (const m of rules.mappings) {
    const prefix = slashes(m.from).replace(/\/+$/, '')
    const p = prefix.toLowerCase()
    if (lower === p || lower.startsWith(`${p}/`)) return `${slashes(m.to).replace(/\/+$/, '')}${path.slice(p.length)}`
  }
  return undefined
}

/**
 * A request path as a native absolute path: Windows forms mapped through config, separators unified,
 * `.` and `..` resolved lexically. Throws VALIDATION_FAILED for anything ambiguous: relative paths,
 * NUL and control characters, device names and namespaces, unmapped drive letters or UNC shares.
 */
export function toLocalPath(input: string, rules: PathRules): string {
  if (typeof input !== 'string' || input === '') throw invalid('The path is empty', String(input))
  if (input.length > rules.maxPathLength)
    throw invalid(`The path is longer than ${rules.maxPathLength} characters`, '…')
  if (CONTROL.test(input)) throw invalid('A path may not contain NUL or control characters', JSON.stringify(input))
  if (ENCODED_TRICK.test(input)) throw invalid('Percent-encoded dots and separators are not decoded', input)
  if (DEVICE_NAMESPACE.test(input))
    throw invalid('Windows device namespace paths (\\\\?\\, \\\\.\\) are refused', input)
  const unified = slashes(input)
  const local = mapped(unified, rules)
  const path = local ?? unified
  const isUnc = path.startsWith('//')
  const hasDrive = DRIVE.test(path)
  if (hasDrive && path[2] !== '/') throw invalid('A drive-relative path (C:name) is ambiguous', input)
  // Names are checked after the drive letter, whose colon is the one Windows allows.
  checkNames((hasDrive ? path.slice(2) : path).split('/'), input, rules)
  if (rules.platform === 'win32') {
    if (!isUnc && !hasDrive) throw invalid('The path must be absolute (C:\\… or \\\\server\\share\\…)', input)
    const native = win32.normalize(path)
    if (isUnc && native.split('\\').filter(Boolean).length < 2)
      throw invalid('A UNC path names a server and a share', input)
    return native
  }
  if (isUnc) throw invalid('UNC paths need a mapping to a local directory (files.pathMappings)', input)
  if (hasDrive) throw invalid('Drive-letter paths need a mapping to a local directory (files.pathMappings)', input)
  if (!path.startsWith('/')) throw invalid('The path must be absolute', input)
  return posix.normalize(path)
}
