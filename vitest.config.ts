import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // koffi native callbacks are safer in child processes than in worker threads.
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
    // Lets `npm test` pass while the suite is still being written.
    passWithNoTests: true,
  },
});
