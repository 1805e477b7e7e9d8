import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Deadline tests force garbage collection: the Node 20 AbortSignal.any/timeout trap only shows after a GC.
    execArgv: ['--expose-gc'],
  },
});
