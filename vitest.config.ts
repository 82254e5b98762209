import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['spec/**/*.spec.ts'],
    globalSetup: ['spec/helpers/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // 2-core machines: a few files at a time keeps socket-heavy tests from starving each other.
    maxWorkers: 2,
    pool: 'forks',
    // Each worker keeps its module cache across files: a fresh process per file re-imported aedes, mqtt, ajv, pino
    // and all of src for every one of ~120 files (a quarter of the suite's worker time). Specs build their own
    // apps, ports and temp dirs and close them (HOUSE-STYLE: tests need no global state), so nothing leaks.
    isolate: false,
  },
})
