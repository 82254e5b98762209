import type { EngineApp, EngineBackend } from './backend.js'
import { EngineRpcError } from './errors.js'
import { HandleTable, type EngineStruct, type HandleTarget } from './handles.js'
import { ProgressBook } from './progress.js'
import type { Logger } from '../../log.js'

/** State shared by every socket of one face: a reload runs at most once per app (§2.3.3 11000). */
export interface FaceShared {
  backend: EngineBackend
  log: Logger
  reloading: Set<string>
}

/** The state of one WebSocket = one engine session (QLIK-PROTOCOLS §2.6). */
export class SessionState {
  readonly handles = new HandleTable()
  readonly progress = new ProgressBook()
  /** Session objects by qId; they die with the socket (§2.6). */
  readonly sessionObjects = new Map<string, number>()
  doc: { appId: string; handle: number; noData: boolean } | undefined
  /** The reloads this session runs; Global.CancelReload aborts them. */
  readonly reloads = new Set<AbortController>()

  constructor(
    readonly id: string,
    readonly path: string,
    readonly user: string | undefined,
  ) {}
}

/** What a method handler gets: the session, the face, and the object its handle points at. */
export interface CallContext<T extends HandleTarget = HandleTarget> {
  state: SessionState
  shared: FaceShared
  handle: number
  target: T
  requestId: number | string | null
}

export interface MethodOutcome {
  result: Record<string, unknown>
  /** Handles whose layout changed (§2.3.2). */
  change?: number[]
  /** Handles released by this call; enigma reads the key `close` (§2.3.2). */
  close?: number[]
}

export type MethodHandler<T extends HandleTarget = HandleTarget> = (
  ctx: CallContext<T>,
  args: Record<string, unknown>,
) => Promise<MethodOutcome> | MethodOutcome

export type MethodTable = Partial<Record<EngineStruct, Record<string, MethodHandler>>>

/** The app behind a handle; an app deleted from the model mid-session reads as not found. */
export function appOf(ctx: CallContext, appId: string): EngineApp {
  const app = ctx.shared.backend.getApp(appId)
  if (app === undefined) throw new EngineRpcError('APP_NOT_FOUND', appId)
  return app
}

/** Narrows the handler's target; the dispatcher already picked the table by struct. */
export function typed<T extends HandleTarget>(handler: MethodHandler<T>): MethodHandler {
  return handler as MethodHandler
}
