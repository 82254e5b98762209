import { EngineRpcError } from './errors.js'

/** A parsed, structurally valid JSON-RPC request (QLIK-PROTOCOLS §2.3.1). */
export interface RpcRequest {
  /** Absent for a notification (no reply is sent). */
  id: number | string | undefined
  handle: number
  method: string
  params: unknown
  /** enigma's delta flag; the face ignores it unless the delta fault is on (§2.3.4). */
  delta: boolean
}

export type RpcFrame = Record<string, unknown>

/** Parses one text frame; throws EngineRpcError with -32700 / -32600 and the id when known. */
export function parseRequest(text: string): RpcRequest {
  let message: unknown
  try {
    message = JSON.parse(text)
  } catch {
    throw new RequestError(new EngineRpcError('PARSE_ERROR'), null)
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    throw new RequestError(new EngineRpcError('INVALID_REQUEST'), null)
  }
  const m = message as Record<string, unknown>
  const id = typeof m['id'] === 'number' || typeof m['id'] === 'string' ? m['id'] : undefined
  if (typeof m['method'] !== 'string' || typeof m['handle'] !== 'number' || !Number.isInteger(m['handle'])) {
    throw new RequestError(new EngineRpcError('INVALID_REQUEST', 'Missing method or handle'), id ?? null)
  }
  return { id, handle: m['handle'], method: m['method'], params: m['params'], delta: m['delta'] === true }
}

/** A request-level failure that still knows which id to answer. */
export class RequestError extends Error {
  constructor(
    readonly error: EngineRpcError,
    readonly id: number | string | null,
  ) {
    super(error.message)
  }
}

export function successFrame(id: number | string, result: Record<string, unknown>, extra: RpcFrame = {}): RpcFrame {
  return { jsonrpc: '2.0', id, ...extra, result }
}

/** §2.3.3: `{code, parameter, message}`; enigma copies code and parameter onto the Error. */
export function errorFrame(id: number | string | null, err: EngineRpcError): RpcFrame {
  return { jsonrpc: '2.0', id, error: { code: err.code, parameter: err.parameter, message: err.message } }
}

/** §2.3.5: the first frame on every socket; SESSION_ATTACHED when it joined a live session. */
export function onConnected(state: 'SESSION_CREATED' | 'SESSION_ATTACHED'): RpcFrame {
  return { jsonrpc: '2.0', method: 'OnConnected', params: { qSessionState: state } }
}
