import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/reliability/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest takes cores - 1 (one, here): but most e2e time is spent waiting for a spawned `ums`,
    // so two files at a time keep both cores busy (measured: ~205 s -> ~130-180 s on 2 cores).
    maxWorkers: 2,
  },
});
