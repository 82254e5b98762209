import { closeSync, mkdirSync, openSync, readdirSync, unlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'

export interface DailyFileOptions {
  dir: string
  /** Files are `<name>.<YYYY-MM-DD>.log`, one per local calendar day. */
  name: string
  /** Files of days older than this many days are deleted when a new day starts (and at open). */
  retainDays: number
  /** The clock, for tests. */
  now?: () => number
}

const DAY_MS = 86_400_000

function localDate(ms: number): string {
  const d = new Date(ms)
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`
}

function nextMidnight(ms: number): number {
  const d = new Date(ms)
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime()
}

/**
 * A log file that starts a new file every day and deletes those past the retention, as Butler's
 * users have it. Writes are synchronous so the last lines before `process.exit` (a fatal start-up
 * error) are on disk; a day check costs one comparison per line.
 */
export class DailyFile {
  private fd: number | undefined
  private rollAt = 0
  private readonly now: () => number
  private readonly pattern: RegExp

  constructor(private readonly opts: DailyFileOptions) {
    this.now = opts.now ?? Date.now
    const escaped = opts.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    this.pattern = new RegExp(`^${escaped}\\.(\\d{4}-\\d{2}-\\d{2})\\.log$`)
    mkdirSync(opts.dir, { recursive: true })
    this.roll()
  }

  /** The file written to now. */
  currentPath(): string {
    return join(this.opts.dir, `${this.opts.name}.${localDate(this.now())}.log`)
  }

  write(chunk: string): void {
    if (this.now() >= this.rollAt) this.roll()
    if (this.fd !== undefined) writeSync(this.fd, chunk)
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
  }

  private roll(): void {
    this.close()
    const now = this.now()
    this.fd = openSync(this.currentPath(), 'a')
    this.rollAt = nextMidnight(now)
    this.prune(now)
  }

  private prune(now: number): void {
    // Dates compare as strings in this format; the oldest kept day is today minus retainDays.
    const oldestKept = localDate(now - this.opts.retainDays * DAY_MS)
    for (const file of readdirSync(this.opts.dir)) {
      const day = this.pattern.exec(file)?.[1]
      if (day !== undefined && day < oldestKept) {
        try {
          unlinkSync(join(this.opts.dir, file))
        } catch {
          // Held open by a reader on Windows, or already gone: the next day tries again.
        }
      }
    }
  }
}
