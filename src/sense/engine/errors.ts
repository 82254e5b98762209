import { CapabilityError, type ErrorCode } from '../../core/errors.js'
import { isTlsFailureCode } from '../errors.js'

/**
 * The one translation table from Engine (QIX) failures to our error codes (HOUSE-STYLE §9.5).
 * Three sources: an engine JSON-RPC error (`code` from LocalizedErrorCode, QLIK-PROTOCOLS §2.3.3),
 * an enigma.js client error (negative codes), and the socket's own error (network, TLS, HTTP
 * status on upgrade). Details carry codes and the operation, never certificates or headers.
 */

export interface EngineCallContext {
  /** What sensebus was doing, e.g. `OpenDoc` or `dumpApp`. */
  operation: string
  appId?: string
  /** The socket-level error captured by createSocket, if any (enigma hides it behind an event). */
  socketError?: Error
}

/** LOCERR_APP_NOT_FOUND (§0.7: 1003, not 1002). */
const APP_NOT_FOUND = 1003
/** enigma.js client codes (enigma.js/error-codes): NOT_CONNECTED, OBJECT_NOT_FOUND. */
const ENIGMA_NOT_CONNECTED = -1

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
])
const UPGRADE_STATUS = /Unexpected server response: (\d{3})/
const HANDSHAKE_TIMEOUT = /handshake has timed out/i

export class EngineTimeoutError extends Error {
  constructor(
    readonly operation: string,
    readonly timeoutMs: number,
  ) {
    super(`${operation} timed out after ${timeoutMs} ms`)
    this.name = 'EngineTimeoutError'
  }
}

export function toEngineError(err: unknown, ctx: EngineCallContext): CapabilityError {
  if (err instanceof CapabilityError) return err
  const details: Record<string, unknown> = { operation: ctx.operation }
  if (ctx.appId !== undefined) details['appId'] = ctx.appId
  const fail = (code: ErrorCode, message: string, extra: Record<string, unknown> = {}): CapabilityError =>
    new CapabilityError(code, message, { details: { ...details, ...extra }, cause: err })

  if (err instanceof EngineTimeoutError)
    return fail('TIMEOUT', `Sense engine: ${err.message}`, { timeoutMs: err.timeoutMs })

  const engineCode = numericCode(err)
  if (engineCode !== undefined && engineCode !== ENIGMA_NOT_CONNECTED) {
    const parameter = (err as { parameter?: unknown }).parameter
    const extra = { engineCode, ...(typeof parameter === 'string' ? { parameter } : {}) }
    if (engineCode === APP_NOT_FOUND)
      return fail('NOT_FOUND', `Sense app ${ctx.appId ?? ''} not found`.replace('  ', ' '), extra)
    return fail('SENSE_ERROR', `Sense engine ${ctx.operation} failed: ${messageOf(err)}`, extra)
  }

  const socket = ctx.socketError ?? socketErrorOf(err)
  const sysCode = (socket as NodeJS.ErrnoException | undefined)?.code
  const text = socket?.message ?? messageOf(err)
  const status = UPGRADE_STATUS.exec(text)?.[1]
  if (status !== undefined) {
    const code: ErrorCode =
      status === '401' || status === '403' ? 'SENSE_AUTH' : status === '404' ? 'NOT_FOUND' : 'SENSE_ERROR'
    return fail(code, `Sense engine refused the WebSocket upgrade with ${status}`, { status: Number(status) })
  }
  if (HANDSHAKE_TIMEOUT.test(text)) return fail('TIMEOUT', 'Sense engine did not complete the WebSocket handshake')
  if (isTlsFailureCode(sysCode)) return fail('SENSE_AUTH', `Sense engine TLS failure: ${sysCode}`, { errno: sysCode })
  if (sysCode !== undefined && UNREACHABLE.has(sysCode))
    return fail('SENSE_UNREACHABLE', `Sense engine unreachable: ${sysCode}`, { errno: sysCode })
  if (engineCode === ENIGMA_NOT_CONNECTED) return fail('SENSE_UNREACHABLE', 'Sense engine closed the connection')
  return fail(
    'SENSE_ERROR',
    `Sense engine ${ctx.operation} failed: ${text}`,
    sysCode === undefined ? {} : { errno: sysCode },
  )
}

function numericCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'number' ? code : undefined
}

/** enigma rejects `open()` with the socket's error event; ws puts the Error on `.error`. */
function socketErrorOf(err: unknown): Error | undefined {
  if (err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string') return err
  const inner = (err as { error?: unknown } | null)?.error
  return inner instanceof Error ? inner : err instanceof Error ? err : undefined
}

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message
  const message = (err as { message?: unknown } | null)?.message
  return typeof message === 'string' ? message : String(err)
}
