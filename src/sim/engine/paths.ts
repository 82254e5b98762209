/**
 * Which upgrade paths the Engine face accepts (QLIK-PROTOCOLS §2.1): `/`, `/app/engineData`,
 * `/app/<id>`, and the same behind one virtual-proxy prefix (`/<prefix>/app/...`).
 */
export interface EnginePath {
  /** The app id in the path, decoded; undefined for `/` and `/app/engineData`. */
  appId?: string
  prefix?: string
  /** enigma's sense-utilities `/identity/<id>` segment: a separate session for the same user and app. */
  identity?: string
}

const ENGINE_DATA = 'engineData'

export function parseEnginePath(rawUrl: string | undefined): EnginePath | undefined {
  const pathname = new URL(rawUrl ?? '/', 'wss://engine').pathname
  const segments = pathname.split('/').filter((s) => s !== '')
  if (segments.length === 0) return {}
  if (segments.length === 1 && segments[0] !== 'app') return { prefix: segments[0] }
  // sense-utilities may append a subpath/ttl segment after the app id (`/app/<id>/ttl/60`), so
  // only the position of `app` matters: either first, or second behind a prefix.
  const appAt = segments[0] === 'app' ? 0 : segments[1] === 'app' ? 1 : -1
  if (appAt < 0) return undefined
  const id = segments[appAt + 1]
  if (id === undefined) return undefined
  const prefix = appAt === 1 ? segments[0] : undefined
  const decoded = safeDecode(id)
  if (decoded === undefined) return undefined
  const rest = segments.slice(appAt + 2)
  const identityAt = rest.indexOf('identity')
  const identity = identityAt >= 0 ? safeDecode(rest[identityAt + 1] ?? '') : undefined
  const base: EnginePath = {
    ...(prefix === undefined ? {} : { prefix }),
    ...(identity === undefined || identity === '' ? {} : { identity }),
  }
  return decoded === ENGINE_DATA ? base : { ...base, appId: decoded }
}

function safeDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment)
  } catch {
    return undefined
  }
}
