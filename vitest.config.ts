import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Needs redis-server: `npm run test:redis` (vitest.redis.config.ts).
    exclude: ['test/redis/**', '**/node_modules/**'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Deadline tests force garbage collection: the Node 20 AbortSignal.any/timeout trap only shows after a GC.
    execArgv: ['--expose-gc'],
  },
});
