import { parseDocument } from 'yaml'
import { describeYamlError } from '../yaml-errors.js'

/**
 * Read access to a Butler config (the mapping under its `Butler:` key) plus the import report:
 * what could not be carried over and what was carried over in another form. Messages name
 * settings by path only, never by value, so secrets (SMTP password, webhook URLs) stay out of them.
 */

export interface ReportLine {
  /** `Butler.influxDb`, `Butler.emailNotification.smtp.tls.serverName`, … */
  setting: string
  reason: string
}

export class ButlerImportError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ButlerImportError'
  }
}

type Node = Record<string, unknown>

const isMap = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Butler's template marks values the admin must fill in as `<...>`: such a value is not a setting yet. */
export const isPlaceholder = (v: unknown): boolean => typeof v === 'string' && /^<.*>$/.test(v.trim())

export class ButlerSource {
  readonly skipped: ReportLine[] = []
  readonly notes: ReportLine[] = []
  /** Top-level keys some mapper looked at; the rest are reported as unknown to the importer. */
  private readonly seen = new Set<string>()

  private constructor(private readonly root: Node) {}

  /** Butler's YAML text to a source; a clear error when it is not YAML or has no `Butler:` mapping. */
  static parse(text: string, name: string): ButlerSource {
    const doc = parseDocument(text)
    if (doc.errors.length > 0)
      throw new ButlerImportError(
        `${name} is not valid YAML:\n${doc.errors.map((e) => `  - ${describeYamlError(text, e)}`).join('\n')}`,
      )
    const value: unknown = doc.toJS()
    if (!isMap(value) || !isMap(value.Butler))
      throw new ButlerImportError(`${name} is not a Butler config: it has no 'Butler:' mapping at the top`)
    return new ButlerSource(value.Butler)
  }

  /** The value at a dotted path under `Butler`, or undefined; marks its top-level key as handled. */
  get(path: string): unknown {
    const parts = path.split('.')
    this.seen.add(parts[0] as string)
    let node: unknown = this.root
    for (const part of parts) {
      if (!isMap(node)) return undefined
      node = node[part]
    }
    return node
  }

  /** A setting that is present and not a template placeholder. */
  value(path: string): unknown {
    const v = this.get(path)
    if (v === null || v === undefined) return undefined
    if (isPlaceholder(v)) {
      this.skip(path, 'still the template placeholder; set it in the sensebus config')
      return undefined
    }
    return v
  }

  string(path: string): string | undefined {
    const v = this.value(path)
    if (v === undefined) return undefined
    if (typeof v === 'string' || typeof v === 'number') return String(v).trim() || undefined
    this.skip(path, `expected text, found ${Array.isArray(v) ? 'a list' : typeof v}`)
    return undefined
  }

  number(path: string): number | undefined {
    const v = this.value(path)
    if (v === undefined) return undefined
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v
    if (typeof n === 'number' && Number.isFinite(n)) return n
    this.skip(path, 'expected a number')
    return undefined
  }

  /** Butler accepts true/false and 'true'/'false'. */
  flag(path: string): boolean | undefined {
    const v = this.get(path)
    if (v === true || v === 'true') return true
    if (v === false || v === 'false') return false
    return undefined
  }

  map(path: string): Node | undefined {
    const v = this.get(path)
    return isMap(v) ? v : undefined
  }

  /** A list; Butler's template leaves lists empty (null) with their entries commented out. */
  list(path: string): unknown[] {
    const v = this.get(path)
    return Array.isArray(v) ? v : []
  }

  /** Non-placeholder strings of a list. */
  strings(path: string): string[] {
    return this.list(path)
      .filter((v): v is string | number => typeof v === 'string' || typeof v === 'number')
      .map(String)
      .filter((s) => s.trim() !== '' && !isPlaceholder(s))
  }

  has(path: string): boolean {
    return this.get(path) !== undefined
  }

  skip(path: string, reason: string): void {
    this.skipped.push({ setting: `Butler.${path}`, reason })
  }

  note(path: string, reason: string): void {
    this.notes.push({ setting: `Butler.${path}`, reason })
  }

  /** Reports every top-level setting no mapper looked at, so nothing disappears silently. */
  reportUnhandled(): void {
    for (const key of Object.keys(this.root))
      if (!this.seen.has(key)) this.skip(key, 'not known to the importer (newer or older Butler setting)')
  }
}

/** `isMap` for mappers that walk lists of Butler objects. */
export const asMap = (v: unknown): Node | undefined => (isMap(v) ? v : undefined)
