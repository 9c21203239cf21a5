import { defineConfig } from 'vitest/config';
import { findInitdb } from './test/support/postgresServer.js';

/**
 * The journal's tests again on PostgreSQL (test/support/journal.ts's openTestJournal): in CI always
 * (a server that cannot start fails the run), elsewhere when one is installed or UMS_TEST_PG_URL
 * names one.
 */
const POSTGRES_JOURNAL_TESTS = [
  'test/unit/deliveryJournal.test.ts',
  'test/unit/transitions.test.ts',
  'test/unit/retryFailed.test.ts',
  'test/unit/smppJournal.test.ts',
  'test/unit/properties.test.ts',
  'test/unit/postgresJournal.test.ts',
  'test/unit/postgresParity.test.ts',
  // the engine and routing over a planned journal (test/support/journal.ts's plannedJournal)
  'test/unit/routes.test.ts',
  'test/unit/failback.test.ts',
  'test/unit/reportMatching.test.ts',
  'test/unit/engineGroupCommit.test.ts',
  'test/unit/engineUnknown.test.ts',
  'test/unit/engineQuietHours.test.ts',
  'test/unit/pacedGroups.test.ts',
  'test/unit/workers.test.ts',
  // providers' side logs in the journal (src/journal/sideLog.ts)
  'test/unit/sideLog.test.ts',
  // NHN's idempotency generations and state, Solapi's image uploads, in the journal
  'test/unit/providerSideState.test.ts',
];
const withPostgres = Boolean(process.env.CI || process.env.UMS_TEST_PG_URL || findInitdb());

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest takes cores - 1 (one, here): but most e2e time is spent waiting for a spawned `ums`,
    // so two files at a time keep both cores busy (measured: ~205 s -> ~130-180 s on 2 cores).
    maxWorkers: 2,
    projects: [
      {
        extends: true as const,
        test: {
          name: 'main',
          include: ['test/**/*.test.ts'],
          exclude: ['test/reliability/**', 'node_modules/**'],
        },
      },
      ...(withPostgres
        ? [
            {
              extends: true as const,
              test: {
                name: 'postgres',
                include: POSTGRES_JOURNAL_TESTS,
                env: { UMS_TEST_JOURNAL: 'postgres' },
                globalSetup: ['test/support/postgresSetup.ts'],
              },
            },
          ]
        : []),
    ],
  },
});
