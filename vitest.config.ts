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
  },
})
