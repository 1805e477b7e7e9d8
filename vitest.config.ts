import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Need redis-server or Chromium: `npm run test:redis`, `npm run test:browser` (their own vitest configs).
    exclude: ['test/redis/**', 'test/browser/**', '**/node_modules/**'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Deadline tests force garbage collection: the Node 20 AbortSignal.any/timeout trap only shows after a GC.
    execArgv: ['--expose-gc'],
  },
});
