import { defineConfig } from 'vitest/config';

/**
 * `npm run test:redis`: the scale-out suite against real redis-server processes the tests start themselves
 * (test/helpers/redis-server.ts). Kept out of `npm test` because it needs redis-server installed.
 */
export default defineConfig({
  test: {
    include: ['test/redis/**/*.test.ts'],
    pool: 'forks',
    // Files share nothing (each starts its own Redis on a free port), but replicas are heavy: run files one by one.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
