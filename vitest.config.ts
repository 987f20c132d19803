import { defineConfig } from 'vitest/config'

// The benchmark smoke test and the reliability suite load the machine (1,000 sockets, restarts): they run
// after the rest, one at a time, so timing-sensitive protocol tests never share the CPU with them.
const heavy = ['test/bench/**/*.test.ts', 'test/reliability/**/*.test.ts']

export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: more workers only add contention with Postgres.
    maxWorkers: 3,
    projects: [
      { extends: true, test: { name: 'main', include: ['test/**/*.test.ts', 'test/**/*.test.tsx'], exclude: heavy } },
      { extends: true, test: { name: 'heavy', include: heavy, fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
})
