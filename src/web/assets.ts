import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** One file the web view serves, read once at start-up (a few dozen kB in all). */
export interface Asset {
  type: string
  body: Buffer
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json; charset=utf-8',
}

/**
 * The page's files live in `src/web/public/` as plain browser ES modules (tsc neither compiles nor
 * copies them); compiled code in `dist/web/` finds them through the source tree, which the package ships,
 * and so does the benches' build in `dist-bench/src/web/`.
 */
export function publicDir(): string {
  const candidates = ['./public', '../../src/web/public', '../../../src/web/public'].map((rel) =>
    fileURLToPath(new URL(rel, import.meta.url)),
  )
  const found = candidates.find((p) => existsSync(join(p, 'index.html')))
  if (!found) throw new Error(`Web view files not found (looked in ${candidates.join(', ')})`)
  return found
}

/** Every servable file under `dir`, by its path relative to it ('js/app.js'); other extensions are skipped. */
export function readAssets(dir: string, prefix = ''): Map<string, Asset> {
  const out = new Map<string, Asset>()
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const rel = `${prefix}${entry.name}`
    if (entry.isDirectory()) {
      for (const [k, v] of readAssets(join(dir, entry.name), `${rel}/`)) out.set(k, v)
      continue
    }
    const type = TYPES[extname(entry.name)]
    if (type) out.set(rel, { type, body: readFileSync(join(dir, entry.name)) })
  }
  return out
}

/**
 * mqtt.js' browser build, straight from the installed `mqtt` package (a runtime dependency), so the
 * page and the service always use the same client version and nothing is copied into the repository.
 */
export function mqttBrowserBuild(): Asset {
  const pkg = createRequire(import.meta.url).resolve('mqtt/package.json')
  return { type: TYPES['.js'] as string, body: readFileSync(join(dirname(pkg), 'dist', 'mqtt.esm.js')) }
}
