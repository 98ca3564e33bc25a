// Mutation testing (StrykerJS, `npm run test:mutation`), outside `npm test`. Stryker has no ava
// runner, so the built-in command runner runs `ava` over the FAST tests only: the core against
// the in-memory store and a manual clock, the engine's unit tests and the pure history-chain
// test. No type check, no server, no SQLite. The command runner cannot tell which test covers
// which mutant, so every mutant reruns its group's test files: the files are split into groups,
// each mutated code paired with the tests that exercise it, run one after another (`STRYKER_GROUP`
// picks one). Incremental mode reuses the last run's results for mutants whose code is unchanged
// (reports/mutation/<group>.incremental.json, committed). The command runner reports one test,
// "All tests", without a file, so Stryker cannot see a changed TEST: after changing tests, run
// with `--force` (npm run test:mutation -- --force). See docs/testing.md.

// Each group is one mutated file (or a few small ones) with the fewest test files that exercise
// it: every mutant pays one ava start plus every listed file, so a test file that cannot reach
// the mutated code only costs time. Leaving a file out can only turn a kill into a survivor,
// never the reverse, so a group's score is a lower bound.
// The engine's fast tests (the spec's vectors and the extra vectors and cases, about 2 s). The
// property tests (engine-properties.test.ts) take 5 s more per mutant on a loaded machine, and
// are left out of the per-mutant run.
const ENGINE_TESTS = ['test/engine-vectors.test.ts', 'test/engine-extra.test.ts'];
const GROUPS = {
  chain: {
    mutate: ['server/store/history-chain.ts'],
    tests: ['test/history-chain.test.ts'],
  },
  // core-replicas and core-replica-leases: the replica code (following, the stale-batch re-plan,
  // the shared lease duty), on registries over one shared memory store.
  leases: {
    mutate: ['server/core/leases.ts'],
    tests: ['test/core-leases.test.ts', 'test/core-replica-leases.test.ts', 'test/core-replicas.test.ts'],
  },
  pipeline: {
    mutate: ['server/core/group-commit.ts'],
    tests: ['test/core-group-commit.test.ts', 'test/core-replicas.test.ts', 'test/core-leases.test.ts', 'test/core-claims-registry.test.ts'],
  },
  planning: {
    mutate: ['server/core/write-planning.ts'],
    // core-leases: the lapse that a renewal made stale (planState) is tested there.
    tests: [
      'test/core-group-commit.test.ts',
      'test/core-reads.test.ts',
      'test/core-claims-registry.test.ts',
      'test/core-write-planning.test.ts',
      'test/core-leases.test.ts',
    ],
  },
  version: {
    mutate: ['server/core/version.ts'],
    tests: ENGINE_TESTS,
  },
  values: {
    mutate: ['server/core/values.ts'],
    tests: [...ENGINE_TESTS, 'test/engine-values.test.ts'],
  },
  engine: {
    mutate: ['server/core/engine.ts'],
    tests: ENGINE_TESTS,
  },
  rank: {
    mutate: ['server/core/rank.ts'],
    tests: [...ENGINE_TESTS, 'test/core-reads.test.ts', 'test/engine-rank.test.ts'],
  },
  // The rest of server/core, first run in the fourth session. Each group is a few files of one
  // concern with the core tests that drive it through the Registry on the in-memory store.
  // The live state and its read views: what every write updates and every read consults.
  state: {
    mutate: [
      'server/core/live-state.ts',
      'server/core/live-device.ts',
      'server/core/read-view.ts',
      'server/core/listing.ts',
      'server/core/descriptor-memo.ts',
      'server/core/top-k.ts',
      'server/core/resources.ts',
    ],
    tests: [
      'test/core-reads.test.ts',
      'test/core-write-planning.test.ts',
      'test/core-group-commit.test.ts',
      'test/core-claims-registry.test.ts',
      'test/core-resources.test.ts',
      'test/core-top-k.test.ts',
      'test/core-listing.test.ts',
      'test/core-descriptor-memo.test.ts',
      'test/core-read-view.test.ts',
      'test/core-live-state.test.ts',
    ],
  },
  // Point-in-time reads, the audit (verify, compaction, retention) and the store contract's
  // helpers; core-replicas compacts a shared store under another registry.
  history: {
    mutate: ['server/core/point-in-time.ts', 'server/core/audit.ts', 'server/core/store.ts'],
    tests: ['test/core-audit.test.ts', 'test/core-reads.test.ts', 'test/core-replicas.test.ts', 'test/core-point-in-time.test.ts', 'test/core-audit-more.test.ts', 'test/core-store-contract.test.ts'],
  },
  // Finding targets (the verdict cache, top-k), standing queries (WatchTargets) and budgets.
  find: {
    mutate: ['server/core/find-targets.ts', 'server/core/standing-query.ts', 'server/core/budgets.ts'],
    tests: [
      'test/core-reads.test.ts',
      'test/core-write-planning.test.ts',
      'test/engine-rank.test.ts',
      'test/core-budgets.test.ts',
      'test/core-find-targets.test.ts',
      'test/core-standing-query.test.ts',
    ],
  },
  // A replica following the shared log, and its lag.
  replica: {
    mutate: ['server/core/follower.ts', 'server/core/follow-lag.ts'],
    tests: ['test/core-replicas.test.ts', 'test/core-follow-lag.test.ts', 'test/core-replica-leases.test.ts', 'test/core-follower.test.ts'],
  },
  claims: {
    mutate: ['server/core/claims.ts', 'server/core/claims-registry.ts'],
    tests: ['test/claims.test.ts', 'test/claims-property.test.ts', 'test/core-claims-registry.test.ts'],
  },
  placement: {
    mutate: [
      'server/core/assignment.ts',
      'server/core/placement-finder.ts',
      'server/core/placement-rank.ts',
      'server/core/placement-request.ts',
      'server/core/placement-host-cache.ts',
    ],
    tests: [
      'test/placement-assignment.test.ts',
      'test/placement-finder-property.test.ts',
      'test/placement-rank.test.ts',
      'test/placement-request.test.ts',
      'test/core-claims-registry.test.ts',
    ],
  },
  // The facade that wires the concerns, the clock and the error constructors.
  facade: {
    mutate: ['server/core/registry.ts', 'server/core/clock.ts', 'server/core/errors.ts'],
    tests: [
      'test/core-reads.test.ts',
      'test/core-group-commit.test.ts',
      'test/core-leases.test.ts',
      'test/core-replicas.test.ts',
      'test/core-audit.test.ts',
      'test/core-errors.test.ts',
      'test/core-clock.test.ts',
      'test/core-registry.test.ts',
      'test/core-claims-registry.test.ts',
    ],
  },
  // The model's constants (the compare operators, the model and engine versions) that
  // validation and the engine read.
  model: {
    mutate: ['server/core/model.ts'],
    tests: [...ENGINE_TESTS, 'test/core-validate.test.ts'],
  },
  // The change feed over a registry on the memory store: no other fast test opens a WatchHub.
  watch: {
    mutate: ['server/core/watch-hub.ts'],
    tests: ['test/core-watch-hub.test.ts'],
  },
  // Descriptor validation and canonical form; the vectors validate every descriptor they compare.
  validate: {
    mutate: ['server/core/validate.ts'],
    tests: ['test/core-validate.test.ts', ...ENGINE_TESTS],
  },
  // Identities, the policy and `decide`: pure, one test file.
  authz: {
    mutate: ['server/core/authz.ts'],
    tests: ['test/core-authz.test.ts'],
  },
  // The live state built from device pages while the store opens (sixth session).
  stateload: {
    mutate: ['server/core/state-load.ts'],
    tests: ['test/core-live-state.test.ts'],
  },
  // A commit batch written as text for the storage worker: the entries' canonical encoding
  // (what the chain hashes) and the device rows, checked byte for byte against the reference
  // encoding on generated records (sixth session).
  entrytext: {
    mutate: ['server/store/history-entry-text.ts', 'server/store/commit-encoding.ts'],
    tests: ['test/history-entry-text.test.ts'],
  },
};

// MUTATION_NODE: the path of a Node >= 23.6 (test/mutation/run.sh installs one for
// `MUTATION_NODE=24`). The tests then run in worker threads of one process with Node's own
// TypeScript transform (test/mutation/ava.config.mjs) instead of one tsx process per test file:
// about half the time per mutant. Node's compile cache (in the sandbox, kept from one mutant to
// the next: the instrumented code is the same for every mutant of a group, only the active
// mutant's number changes) keeps the compiled TypeScript and V8's code: half again (2.8 s to
// 1.5 s for the state group's four files at load 10). Without it, the machine's node and tsx,
// as in `npm test`.
const mutationNode = process.env.MUTATION_NODE;
const name = process.env.STRYKER_GROUP ?? 'chain';
const group = GROUPS[name];
if (!group) throw new Error(`STRYKER_GROUP must be one of ${Object.keys(GROUPS).join(', ')}; got ${name}`);

export default {
  testRunner: 'command',
  // ava's own config (package.json) gives the sandbox `--import=tsx`; --fail-fast ends a killed
  // mutant's run at its first failure.
  // ava's CLI straight from node_modules: `npx` costs a package lookup per mutant.
  commandRunner: {
    command: mutationNode
      ? `NODE_COMPILE_CACHE=.node-compile-cache ${mutationNode} node_modules/ava/entrypoints/cli.mjs --config test/mutation/ava.config.mjs --fail-fast ${group.tests.join(' ')}`
      : `node node_modules/ava/entrypoints/cli.mjs --fail-fast ${group.tests.join(' ')}`,
  },
  coverageAnalysis: 'off',
  mutate: group.mutate,
  checkers: [],
  concurrency: 2,
  timeoutMS: 30000,
  incremental: true,
  incrementalFile: `reports/mutation/${name}.incremental.json`,
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  // The sysfs fixtures are trees of symlinks in the kernel's layout, which Stryker's sandbox
  // copy cannot copy (EISDIR); no mutation test reads them, nor the bench or the docs.
  ignorePatterns: ['/test/fixtures/sysfs', '/bench', '/docs', '/reports', '/.ci', '/.stryker-tmp'],
  // One sandbox directory per group, so that two groups can run side by side.
  tempDirName: `.stryker-tmp/${name}`,
  cleanTempDir: true,
};
