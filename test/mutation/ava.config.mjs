// ava's configuration for the mutation run under a Node that compiles TypeScript itself
// (Node >= 23.6 with --experimental-transform-types; MUTATION_NODE, see stryker.config.mjs):
// the test files run in worker threads of one process, without tsx, which halves the cost of
// each mutant (most of it was starting one tsx process per test file). `npm test` keeps the
// package.json configuration (tsx, one process per file), which every supported Node runs.
export default {
  extensions: { ts: 'module' },
  // --experimental-transform-types: the code has parameter properties, which type stripping
  // alone refuses.
  nodeArguments: ['--experimental-transform-types', '--no-warnings'],
  workerThreads: true,
  files: ['test/*.test.ts'],
  timeout: '120s',
};
