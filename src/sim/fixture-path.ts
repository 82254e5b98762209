import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/**
 * The bundled demo fixture. It lives in `src/sim/fixtures/`; the compiled code in `dist/sim/` finds it
 * through the source tree, since tsc does not copy YAML files.
 */
export function defaultFixturePath(): string {
  const candidates = ['./fixtures/demo.yaml', '../../src/sim/fixtures/demo.yaml'].map((rel) =>
    fileURLToPath(new URL(rel, import.meta.url)),
  )
  const found = candidates.find((p) => existsSync(p))
  if (!found) throw new Error(`Demo fixture not found (looked in ${candidates.join(', ')})`)
  return found
}
