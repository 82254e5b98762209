/**
 * `npm run bench`: every benchmark entry point in turn, each in its own process with the same
 * arguments (`--quick`, `--no-write`, …). A failing target does not stop the ones after it; the exit
 * code says whether any entry point failed.
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const ENTRIES = [
  'run.js',
  'mosquitto-echo.js',
  'audit.js',
  'retained-mosquitto.js',
  'flood.js',
  'alerts.js',
  'tasks.js',
  'scheduler.js',
  'idle.js',
  'cluster.js',
]

let failed = 0
for (const entry of ENTRIES) {
  const path = fileURLToPath(new URL(`./${entry}`, import.meta.url))
  const { status } = spawnSync(process.execPath, [path, ...process.argv.slice(2)], { stdio: 'inherit' })
  if (status !== 0) failed++
}
process.exit(failed > 0 ? 1 : 0)
