import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/**
 * Builds dist/ once per run so specs that start `sensebus` as a real child process run the code
 * under test, not a stale build. Type errors do not stop the emit (`npm test` runs `tsc --noEmit`
 * first and fails on them), so they only warn here.
 */
export default function setup(): void {
  const root = fileURLToPath(new URL('../../', import.meta.url))
  const result = spawnSync(
    process.execPath,
    [`${root}node_modules/typescript/bin/tsc`, '-p', `${root}tsconfig.build.json`],
    { cwd: root, encoding: 'utf8' },
  )
  if (result.status !== 0)
    process.stderr.write(
      `warning: tsc reported errors while building dist/ for the process tests:\n${result.stdout}${result.stderr}\n`,
    )
}
