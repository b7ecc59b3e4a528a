import { defineConfig } from 'vitest/config';

/**
 * Shared vitest settings: sibling packages resolve to their TypeScript sources through the
 * `@daxsim/source` export condition, so a test never runs against a stale dist/.
 */
export const sharedConfig = defineConfig({
  resolve: { conditions: ['@daxsim/source'] },
  ssr: { resolve: { conditions: ['@daxsim/source'] } },
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-result.json' },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
