import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@wirehop/source'] },
  ssr: { resolve: { conditions: ['@wirehop/source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // The long end-to-end files mostly wait (a minute of oscillating latency, idle-timeout silences),
    // so more of them may run at once than there are cores.
    maxWorkers: 4,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
