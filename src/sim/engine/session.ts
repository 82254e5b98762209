import { setTimeout as sleep } from 'node:timers/promises'
import type { WebSocket } from 'ws'
import type { FaceShared, MethodOutcome, SessionState } from './context.js'
import { deltaEncode } from './delta.js'
import { EngineRpcError } from './errors.js'
import { ENGINE_METHODS } from './methods/index.js'
import { namedParams } from './params.js'
import {
  onConnected,
  errorFrame,
  parseRequest,
  successFrame,
  RequestError,
  type RpcFrame,
  type RpcRequest,
} from './rpc.js'
import { schemaMethod } from './schema.js'

/**
 * Serves one WebSocket as one engine session. Every frame is handled on its own promise, so
 * responses go out as each call finishes, in any order, matched by id (QLIK-PROTOCOLS §2.3.2):
 * a long DoReload never holds up GetProgress or the dump's parallel reads.
 */
export function serveSession(socket: WebSocket, state: SessionState, shared: FaceShared, attached = false): void {
  const log = shared.log.child({ session: state.id })
  send(socket, onConnected(attached ? 'SESSION_ATTACHED' : 'SESSION_CREATED'))
  // A client that sends a bad frame or drops the connection must not take the simulator down.
  socket.on('error', (err) => log.debug({ err }, 'engine socket error'))
  socket.on('close', (code) => log.debug({ code }, 'engine session closed'))
  socket.on('message', (data, isBinary) => {
    const text = isBinary ? '' : data.toString()
    void answer(text).catch((err: unknown) => log.error({ err }, 'engine session failed to answer'))
  })

  async function answer(text: string): Promise<void> {
    let request: RpcRequest
    try {
      request = parseRequest(text)
    } catch (err) {
      const failure = err instanceof RequestError ? err : new RequestError(new EngineRpcError('INTERNAL_ERROR'), null)
      return reply(errorFrame(failure.id, failure.error))
    }
    const frame = await respond(request)
    if (request.id !== undefined) await reply(frame)
  }

  async function respond(request: RpcRequest): Promise<RpcFrame> {
    const id = request.id ?? null
    // Recorded on arrival, so the control plane lists calls in the order the client sent them (§4.7).
    record(request)
    try {
      const outcome = await call(request)
      return id === null ? {} : shape(id, request, outcome)
    } catch (err) {
      return errorFrame(id, err instanceof EngineRpcError ? err : internal(err))
    }
  }

  async function call(request: RpcRequest): Promise<MethodOutcome> {
    const target = state.handles.get(request.handle)
    if (target === undefined) throw new EngineRpcError('INVALID_PARAMETERS', `Invalid handle ${request.handle}`)
    const handler = ENGINE_METHODS[target.struct]?.[request.method]
    const spec = schemaMethod(target.struct, request.method)
    if (handler === undefined || spec === undefined) throw new EngineRpcError('METHOD_NOT_FOUND', request.method)
    const args = namedParams(spec, request.params)
    return handler({ state, shared, handle: request.handle, target, requestId: request.id ?? null }, args)
  }

  function shape(id: number | string, request: RpcRequest, outcome: MethodOutcome): RpcFrame {
    const extra: RpcFrame = {}
    if (outcome.change !== undefined) extra['change'] = outcome.change
    if (outcome.close !== undefined) extra['close'] = outcome.close
    const useDelta = request.delta && shared.backend.faults?.().deltaResponses === true
    if (!useDelta) return successFrame(id, outcome.result, extra)
    return successFrame(id, deltaEncode(outcome.result), { ...extra, delta: true })
  }

  async function reply(frame: RpcFrame): Promise<void> {
    const latency = shared.backend.faults?.().latencyMs ?? 0
    if (latency > 0) await sleep(latency)
    send(socket, frame)
  }

  function record(request: RpcRequest): void {
    const appId = state.doc?.appId
    shared.backend.record?.({
      face: 'engine',
      method: request.method,
      handle: request.handle,
      params: request.params,
      id: request.id ?? null,
      session: state.id,
      path: state.path,
      ...(appId === undefined ? {} : { appId }),
      ...(state.user === undefined ? {} : { user: state.user }),
      at: new Date().toISOString(),
    })
  }

  function internal(err: unknown): EngineRpcError {
    log.error({ err }, 'engine method threw')
    return new EngineRpcError('INTERNAL_ERROR')
  }
}

function send(socket: WebSocket, frame: RpcFrame): void {
  // A reply to a socket the client already closed is dropped: session objects died with it (§2.6).
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(frame))
}
