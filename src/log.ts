import { resolve } from 'node:path'
import {
  type DestinationStream,
  type Level,
  type Logger as PinoLogger,
  type LoggerOptions,
  destination,
  multistream,
  pino,
} from 'pino'
import { DailyFile } from './logging/daily-file.js'
import { prettyStream } from './logging/pretty.js'

export type Logger = PinoLogger

/** Keys whose values never reach a log line, wherever they appear in the logged object. */
export const REDACT_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'token',
  '*.token',
  '*.*.token',
  'secret',
  '*.secret',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'key',
  '*.key',
  'passwordHash',
  '*.passwordHash',
]

export type LogFormat = 'auto' | 'json' | 'pretty'

export interface LogFileOptions {
  enabled: boolean
  dir: string
  name: string
  retainDays: number
  format: 'json' | 'pretty'
}

export interface LogOptions {
  level?: string
  /** `auto`: readable lines when stdout is a terminal, JSON otherwise. */
  format?: LogFormat
  /** Also write to a daily-rotated file (the `log.file` config section). */
  file?: LogFileOptions | undefined
  /** Where relative `file.dir` paths resolve; default the cwd. */
  baseDir?: string
  /** Write to this stream instead of stdout (tests, the CLI's quiet modes). */
  destination?: NodeJS.WritableStream
  /** Whether the console is a terminal; default `process.stdout.isTTY`. */
  isTTY?: boolean
}

/** Log lines waiting for a slow stdout (a pipe nobody reads) beyond this are dropped, not held in memory. */
const MAX_PENDING_LOG_BYTES = 16 * 1024 * 1024

/** How long a log line may wait for others to share its write. */
const LOG_FLUSH_MS = 100

/**
 * JSON lines to stdout without a write(2) per line: lines gather in a buffer written once it holds 4 KB, or
 * 100 ms after the first of them, so one audit line per request (issue #10) does not cost a system call
 * each, and a quiet service makes no writes (no timer runs while nothing waits). pino flushes the buffer
 * synchronously at exit, `process.exit` included.
 */
function asyncStdout(): DestinationStream {
  const out = destination({ dest: 1, sync: false, minLength: 4096, maxLength: MAX_PENDING_LOG_BYTES })
  let timer: NodeJS.Timeout | undefined
  const flush = () => {
    timer = undefined
    out.flush()
  }
  return {
    write(line: string) {
      out.write(line)
      if (timer === undefined) timer = setTimeout(flush, LOG_FLUSH_MS).unref()
    },
  }
}

/** The root logger; everything else gets `log.child({ area })`. */
export function createLogger(opts: LogOptions = {}): Logger {
  const level = opts.level ?? 'info'
  const options: LoggerOptions = {
    level,
    base: { name: 'sensebus' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  }
  const tty = opts.isTTY ?? (opts.destination ? false : process.stdout.isTTY === true)
  const pretty = opts.format === 'pretty' || ((opts.format ?? 'auto') === 'auto' && tty)
  const out = opts.destination ?? process.stdout
  const console: DestinationStream = pretty ? prettyStream(out, { colour: tty }) : (out as DestinationStream)
  if (!opts.file?.enabled) return opts.destination || pretty ? pino(options, console) : pino(options, asyncStdout())
  const file = new DailyFile({
    dir: resolve(opts.baseDir ?? process.cwd(), opts.file.dir),
    name: opts.file.name,
    retainDays: opts.file.retainDays,
  })
  const fileStream: DestinationStream = opts.file.format === 'pretty' ? prettyStream(file) : file
  // Both streams at the logger's level: the file keeps what the console shows.
  const streams = multistream([
    { level: level === 'silent' ? 'fatal' : (level as Level), stream: console },
    { level: level === 'silent' ? 'fatal' : (level as Level), stream: fileStream },
  ])
  return pino(options, streams)
}

/** A logger that drops everything: for library callers and tests that do not care. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' })
}
