import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/**
 * Builds dist/ once per run so specs that start `sensebus` as a real child process run the code
 * under test, not a stale build. `--noCheck` only emits (the same files a checked build writes, in
 * less than half the time): `npm test` type-checks with `tsc --noEmit` before vitest starts, and the
 * pack spec's prepack build checks again, so this run does not repeat the check on the critical path.
 */
export default function setup(): void {
  const root = fileURLToPath(new URL('../../', import.meta.url))
  const result = spawnSync(
    process.execPath,
    [`${root}node_modules/typescript/bin/tsc`, '-p', `${root}tsconfig.build.json`, '--noCheck'],
    { cwd: root, encoding: 'utf8' },
  )
  if (result.status !== 0)
    process.stderr.write(
      `warning: tsc could not build dist/ for the process tests:\n${result.stdout}${result.stderr}\n`,
    )
}
