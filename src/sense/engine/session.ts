import { createRequire } from 'node:module'
import WebSocket from 'ws'
import type { Logger } from '../../log.js'
import { EngineTimeoutError, toEngineError } from './errors.js'
import { ENGINE_DEFAULTS, engineUrl, qlikUserHeader, type EngineClientOptions, type EngineRoute } from './options.js'
import type { QixGlobal } from './qix.js'

/**
 * enigma.js and the schema it publishes for the engine version Butler defaults to (QLIK-PROTOCOLS §2.1),
 * loaded on the first Engine session: an instance that never talks to the Engine does not hold them.
 */
let loaded: Promise<{ enigma: typeof import('enigma.js').default; schema: object }> | undefined
const loadEnigma = () => {
  loaded ??= import('enigma.js').then((m) => ({
    enigma: m.default,
    schema: createRequire(import.meta.url)('enigma.js/schemas/12.612.0.json') as object,
  }))
  return loaded
}

/** One engine session = one socket. Every call goes through `call` so it is timed and its error mapped. */
export interface EngineSession {
  global: QixGlobal
  call<T>(operation: string, promise: Promise<T>, timeoutMs?: number): Promise<T>
  close(): Promise<void>
}

/**
 * Opens an enigma.js session the way Qlik documents it for Node: `createSocket` builds a `ws`
 * WebSocket with the client certificate, key, CA and the `X-Qlik-User` header (§2.2).
 */
export async function openEngineSession(
  opts: EngineClientOptions,
  route: EngineRoute,
  log: Logger,
  appId?: string,
): Promise<EngineSession> {
  const timeoutMs = opts.timeoutMs ?? ENGINE_DEFAULTS.timeoutMs
  let socketError: Error | undefined
  const ctx = (operation: string) => ({
    operation,
    ...(appId === undefined ? {} : { appId }),
    ...(socketError === undefined ? {} : { socketError }),
  })

  const { enigma, schema } = await loadEnigma()
  const session = enigma.create({
    schema,
    url: engineUrl(opts, route),
    createSocket: (url: string) => {
      const ws = new WebSocket(url, {
        cert: opts.certs.cert,
        key: opts.certs.key,
        ca: opts.certs.ca,
        ...(opts.certs.passphrase === undefined ? {} : { passphrase: opts.certs.passphrase }),
        rejectUnauthorized: opts.rejectUnauthorized ?? true,
        handshakeTimeout: timeoutMs,
        headers: { ...opts.headers, 'X-Qlik-User': qlikUserHeader(opts.user) },
      })
      // enigma reports socket failures as bare events; keep the real Error for the code mapping.
      ws.on('error', (err) => {
        socketError ??= err
      })
      return ws as never
    },
  })

  const call = async <T>(operation: string, promise: Promise<T>, ms = timeoutMs): Promise<T> => {
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new EngineTimeoutError(operation, ms)), ms)
    })
    try {
      return await Promise.race([promise, deadline])
    } catch (err) {
      throw toEngineError(err, ctx(operation))
    } finally {
      clearTimeout(timer)
    }
  }

  const close = async (): Promise<void> => {
    // A close that hangs or fails must not mask the operation's own result.
    await Promise.race([session.close().catch(() => undefined), new Promise((r) => setTimeout(r, 1_000).unref())])
  }

  try {
    const global = await call('open', session.open<EnigmaJS.QixObject>())
    log.debug({ route: typeof route === 'string' ? route : 'app', appId }, 'engine session opened')
    return { global: global as unknown as QixGlobal, call, close }
  } catch (err) {
    await close()
    throw err
  }
}

/** Runs `fn` on a fresh session and always closes it, whatever happens. */
export async function withEngineSession<T>(
  opts: EngineClientOptions,
  route: EngineRoute,
  log: Logger,
  appId: string | undefined,
  fn: (session: EngineSession) => Promise<T>,
): Promise<T> {
  const session = await openEngineSession(opts, route, log, appId)
  try {
    return await fn(session)
  } finally {
    await session.close()
  }
}
