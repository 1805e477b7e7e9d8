import { defineConfig } from 'vitest/config';

/**
 * `npm run test:browser`: the live status page in Debian's Chromium (playwright-core). Kept out of
 * `npm test` because it needs a browser installed (.ci/run installs the `chromium` package).
 */
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
