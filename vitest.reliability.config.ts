import { defineConfig } from 'vitest/config';

/** The long suite: crashes, faults, hostile input at scale (`npm run test:reliability`). */
export default defineConfig({
  test: {
    include: ['test/reliability/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
