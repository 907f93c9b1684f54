import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@wirehop/source'] },
  ssr: { resolve: { conditions: ['@wirehop/source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
