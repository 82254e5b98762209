import { pino, type Logger as PinoLogger, type LoggerOptions } from 'pino'

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

export interface LogOptions {
  level?: string
  /** Write to this stream instead of stdout (tests, the CLI's quiet modes). */
  destination?: NodeJS.WritableStream
}

/** The root logger; everything else gets `log.child({ area })`. */
export function createLogger(opts: LogOptions = {}): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? 'info',
    base: { name: 'sensebus' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  }
  return opts.destination ? pino(options, opts.destination) : pino(options)
}

/** A logger that drops everything: for library callers and tests that do not care. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' })
}
