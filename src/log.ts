import { resolve } from 'node:path'
import {
  type DestinationStream,
  type Level,
  type Logger as PinoLogger,
  type LoggerOptions,
  destination,
  multistream,
  pino,
  symbols,
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

/** Lines are handed to the stdout writer in chunks of about this many characters. */
const LOG_CHUNK = 64 * 1024

/** Log lines this process dropped because stdout did not keep up (more than 16 MB waiting). */
let droppedLines = 0

/** For /metrics: stdout is the process's, so the count is too, whichever instance logged the lines. */
export function logLinesDropped(): number {
  return droppedLines
}

/** Line gatherers with lines not yet handed over; emptied when the process is about to exit. */
const gatherers = new Set<() => void>()
let exitHooked = false
const handOverAll = () => {
  for (const handOver of gatherers) handOver()
}

/**
 * JSON lines to stdout without a write(2) per line: lines gather here and go to pino's asynchronous stdout
 * writer (sonic-boom) as one string once they hold 64 KB, or 100 ms after the first of them, so one audit
 * line per request (issue #10) costs neither a system call nor sonic-boom's per-write work (it measures the
 * byte length of its whole pending chunk on every write). A quiet service makes no writes (no timer runs
 * while nothing waits). At exit the lines still here go first, then pino's own exit flush writes them out.
 */
function asyncStdout(): DestinationStream {
  // Before the destination: pino registers its exit flush with it, and process listeners run in order.
  // Once per process: loggers come and go (tests, restarts), the two listeners serve them all.
  if (!exitHooked) {
    exitHooked = true
    process.on('beforeExit', handOverAll)
    process.on('exit', handOverAll)
  }
  const out = destination({ dest: 1, sync: false, maxLength: MAX_PENDING_LOG_BYTES })
  // sonic-boom drops a whole chunk at once; counting its lines happens only then.
  out.on('drop', (chunk: string) => {
    for (let i = chunk.indexOf('\n'); i >= 0; i = chunk.indexOf('\n', i + 1)) droppedLines++
  })
  let lines: string[] = []
  let size = 0
  let timer: NodeJS.Timeout | undefined
  const handOver = () => {
    clearTimeout(timer)
    timer = undefined
    if (lines.length === 0) return
    const chunk = lines.join('')
    lines = []
    size = 0
    // Once pino's exit flush has ended the writer (a second beforeExit), there is nowhere left to write.
    if (!(out as unknown as { destroyed: boolean }).destroyed) out.write(chunk)
  }
  gatherers.add(handOver)
  out.on('close', () => gatherers.delete(handOver))
  return {
    write(line: string) {
      lines.push(line)
      size += line.length
      if (size >= LOG_CHUNK) handOver()
      else if (timer === undefined) timer = setTimeout(handOver, LOG_FLUSH_MS).unref()
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

/** A line's own fields, already JSON: `,"key":value` pairs, each key and value encoded. */
export type JsonFields = string

/**
 * Writes info lines whose fields `encode` turns into JSON directly, through the logger's own stream, time and
 * bindings: the same line `logger.info(obj, msg)` writes, without building and walking an object per line.
 * For the one line every request writes (the audit line, issue #10). The level is checked per line, so a
 * level changed at run time is honoured; `msg` must be plain ASCII without quotes or backslashes.
 */
export function infoLineWriter<T>(logger: Logger, msg: string, encode: (item: T) => JsonFields): (item: T) => void {
  const s = symbols
  const self = logger as unknown as Record<symbol, unknown>
  const stream = self[s.streamSym] as DestinationStream & Record<string | symbol, unknown>
  const time = self[s.timeSym] as () => string
  const prefix = (self[s.lsCacheSym] as Record<number, string>)[INFO]
  const tail = `,"msg":${JSON.stringify(msg)}}\n`
  const metadata = stream[s.needsMetadataGsym] === true
  // The logger's timestamp, computed once per millisecond: at thousands of lines a second, most share one.
  let lastMs = -1
  let t = ''
  return (item) => {
    // Checked before encoding: below info (a quiet service, the benches) a line costs nothing.
    if (!logger.isLevelEnabled('info')) return
    const now = Date.now()
    if (now !== lastMs) {
      lastMs = now
      t = time()
    }
    // A multistream picks its destinations by the level pino sets on it before each write.
    if (metadata) {
      stream.lastLevel = INFO
      stream.lastMsg = msg
      stream.lastTime = t.slice(self[s.timeSliceIndexSym] as number)
      stream.lastObj = {}
      stream.lastLogger = logger
    }
    stream.write(`${prefix}${t}${self[s.chindingsSym] as string}${encode(item)}${tail}`)
  }
}

/** pino's number for the info level. */
const INFO = 30
