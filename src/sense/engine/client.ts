import { randomUUID } from 'node:crypto'
import { silentLogger, type Logger } from '../../log.js'
import { readAppDump, type AppDump } from './dump.js'
import { ENGINE_DEFAULTS, type EngineClientOptions } from './options.js'
import type { QixDoc } from './qix.js'
import { runReload, type ReloadOptions, type ReloadOutcome } from './reload.js'
import { openEngineSession, withEngineSession, type EngineSession } from './session.js'

export interface EngineAppSummary {
  id: string
  name: string
  lastReloadTime?: string
  readOnly?: boolean
  meta?: Record<string, unknown>
}

/** An app held open on its own socket; the caller must `close()` it. */
export interface OpenEngineApp {
  appId: string
  doc: QixDoc
  session: EngineSession
  close(): Promise<void>
}

export interface EngineClient {
  /** GetDocList on the root path (QLIK-PROTOCOLS §2.5.3). */
  listApps(): Promise<EngineAppSummary[]>
  openApp(appId: string, opts?: { noData?: boolean }): Promise<OpenEngineApp>
  /** §2.5.1, plus GetProgress polling: DoReload, then DoSave only on success. */
  reloadApp(appId: string, opts?: ReloadOptions): Promise<ReloadOutcome>
  saveApp(appId: string): Promise<void>
  /** §2.5.2 on `/app/engineData`, app opened without data. */
  dumpApp(appId: string): Promise<AppDump>
}

/** A fresh session identity per operation, so two operations on one app never share a session. */
const identity = (operation: string) => `sensebus-${operation}-${randomUUID()}`

/**
 * sensebus's Engine client: enigma.js with its published schema over `ws`, one socket and one
 * engine session per operation, always closed. Every failure leaves as a CapabilityError (see
 * ./errors.ts).
 */
export function createEngineClient(opts: EngineClientOptions, log: Logger = silentLogger()): EngineClient {
  const elog = log.child({ area: 'sense-engine', host: opts.host })

  const openDoc = (s: EngineSession, appId: string, noData: boolean): Promise<QixDoc> =>
    s.call('OpenDoc', s.global.openDoc(appId, '', '', '', noData))

  return {
    listApps: () =>
      withEngineSession(opts, 'root', elog, undefined, async (s) => {
        const docs = await s.call('GetDocList', s.global.getDocList())
        return docs.map((d) => ({
          id: d.qDocId,
          name: d.qDocName,
          ...(d.qLastReloadTime === undefined ? {} : { lastReloadTime: d.qLastReloadTime }),
          ...(d.qReadOnly === undefined ? {} : { readOnly: d.qReadOnly }),
          ...(d.qMeta === undefined ? {} : { meta: d.qMeta }),
        }))
      }),

    openApp: async (appId, o = {}) => {
      const session = await openEngineSession(opts, { appId, identity: identity('open') }, elog, appId)
      try {
        const doc = await openDoc(session, appId, o.noData ?? false)
        return { appId, doc, session, close: () => session.close() }
      } catch (err) {
        await session.close()
        throw err
      }
    },

    reloadApp: (appId, o = {}) =>
      withEngineSession(opts, { appId, identity: identity('reload') }, elog, appId, async (s) => {
        const doc = await openDoc(s, appId, false)
        const outcome = await runReload(s, doc, appId, o, opts.reloadTimeoutMs ?? ENGINE_DEFAULTS.reloadTimeoutMs)
        elog.info({ appId, success: outcome.success, saved: outcome.saved }, 'engine reload finished')
        return outcome
      }),

    saveApp: (appId) =>
      withEngineSession(opts, { appId, identity: identity('save') }, elog, appId, async (s) => {
        const doc = await openDoc(s, appId, false)
        await s.call('DoSave', doc.doSave())
      }),

    dumpApp: (appId) =>
      withEngineSession(opts, { engineData: true, identity: identity('dump') }, elog, appId, async (s) =>
        readAppDump(s, await openDoc(s, appId, true), appId),
      ),
  }
}
