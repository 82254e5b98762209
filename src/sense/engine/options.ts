/** How sensebus reaches a Qlik Sense engine (QLIK-PROTOCOLS §2.1-2.2). */
export interface EngineClientOptions {
  host: string
  /** Default 4747, the engine's certificate-authenticated port. */
  port?: number
  /** The QMC export: client.pem, client_key.pem, root.pem (see `loadSenseCertificates`). */
  certs: { cert: string | Buffer; key: string | Buffer; ca: string | Buffer; passphrase?: string }
  /** Sent as `X-Qlik-User: UserDirectory=<directory>; UserId=<id>`. */
  user: { directory: string; id: string }
  /** Default true. Sites with self-signed certificates outside `ca` may need false. */
  rejectUnauthorized?: boolean
  /** Opening the socket and every single call; default 30 s. */
  timeoutMs?: number
  /** How long one DoReload may run; default 1 h. */
  reloadTimeoutMs?: number
  /** Extra upgrade headers (e.g. a virtual proxy's own header). */
  headers?: Record<string, string>
  /** Virtual-proxy prefix, e.g. `hdr` → `wss://host:port/hdr/app/...`. */
  prefix?: string
}

export const ENGINE_DEFAULTS = {
  port: 4747,
  timeoutMs: 30_000,
  reloadTimeoutMs: 3_600_000,
  progressPollMs: 500,
} as const

/**
 * What the socket is opened on: an app, the engine-data route, or the root (§2.1 table). An
 * `identity` gives the socket its own engine session: without one, the engine attaches every socket
 * of our user on the same app to one session, so a reload and a dump of one app would collide.
 */
export type EngineRoute =
  | { appId: string; identity?: string }
  | 'engineData'
  | { engineData: true; identity: string }
  | 'root'

/**
 * Builds the URL the way Qlik documents it (enigma's sense-utilities): `wss://host:port/app/<appId>`
 * with the id URI-encoded, `/app/engineData` when no app is named, and the bare root for GetDocList.
 */
export function engineUrl(opts: EngineClientOptions, route: EngineRoute): string {
  const prefix = opts.prefix === undefined || opts.prefix === '' ? '' : `/${opts.prefix.replace(/^\/+|\/+$/g, '')}`
  const base = `wss://${opts.host}:${opts.port ?? ENGINE_DEFAULTS.port}${prefix}`
  if (route === 'root') return base
  if (route === 'engineData') return `${base}/app/engineData`
  const app = 'appId' in route ? encodeURIComponent(route.appId) : 'engineData'
  // enigma's sense-utilities spelling of a session identity.
  const identity = route.identity === undefined ? '' : `/identity/${encodeURIComponent(route.identity)}`
  return `${base}/app/${app}${identity}`
}

/** §2.2: the header value Qlik's documentation and Butler use. */
export function qlikUserHeader(user: EngineClientOptions['user']): string {
  return `UserDirectory=${user.directory}; UserId=${user.id}`
}
