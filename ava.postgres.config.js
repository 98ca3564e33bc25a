// The PostgreSQL suite (`npm run test:postgres`): outside `npm test` because it needs
// PostgreSQL's server binaries, which a fresh machine does not have; .ci/run installs them.
// test/postgres/run.ts starts a throwaway cluster, exports its address as
// DEVCOMPAT_TEST_POSTGRES, and runs these files: the PostgreSQL tests themselves, and the
// store contract and key integration suites (shared budgets among them) again with every test server on PostgreSQL.
export default {
  files: [
    'test/postgres/**/*.test.ts',
    'test/store-contract.test.ts',
    'test/integration-registry.test.ts',
    'test/integration-history.test.ts',
    'test/integration-compatibility.test.ts',
    'test/integration-errors.test.ts',
    'test/integration-placement.test.ts',
    'test/integration-budgets.test.ts',
    'test/watch.test.ts',
    'test/watch-targets.test.ts',
    'test/point-in-time.test.ts',
    'test/placement-race.test.ts',
    'test/find-counts.test.ts',
  ],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  workerThreads: false,
  timeout: '180s',
};
