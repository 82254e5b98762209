/**
 * Engine error codes and the one error type the method table throws.
 * Codes come from `LocalizedErrorCode` in enigma's schema 12.612.0 (QLIK-PROTOCOLS §2.3.3);
 * the human texts are (unconfirmed) and live only here so they can be corrected from a real site.
 */
export const ENGINE_ERRORS = {
  PARSE_ERROR: { code: -32700, message: 'JSON protocol parse error' },
  INVALID_REQUEST: { code: -32600, message: 'Invalid request' },
  METHOD_NOT_FOUND: { code: -32601, message: 'Requested protocol method does not exist' },
  INVALID_PARAMETERS: { code: -32602, message: 'Invalid parameters' },
  INTERNAL_ERROR: { code: -32603, message: 'Internal error' },
  ACCESS_DENIED: { code: 5, message: 'Access denied' },
  APP_ALREADY_OPEN: { code: 1002, message: 'App is already open' },
  APP_NOT_FOUND: { code: 1003, message: 'The app you specified could not be found.' },
  APP_INVALID: { code: 1007, message: 'Failed to get app because there is no app loaded.' },
  CONNECTION_NOT_FOUND: { code: 2001, message: 'Connection not found' },
  RELOAD_IN_PROGRESS: { code: 11000, message: 'Reload in progress' },
} as const

export type EngineErrorName = keyof typeof ENGINE_ERRORS

/** Thrown by method handlers; the session turns it into a JSON-RPC error frame. */
export class EngineRpcError extends Error {
  readonly code: number
  readonly parameter: string

  constructor(name: EngineErrorName, parameter?: string) {
    const entry = ENGINE_ERRORS[name]
    super(entry.message)
    this.name = 'EngineRpcError'
    this.code = entry.code
    this.parameter = parameter ?? entry.message
  }
}
