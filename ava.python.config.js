// The Python grpcio interop test: outside `npm test` because it needs Debian packages
// (python3-grpcio, protobuf-compiler, protobuf-compiler-grpc, libprotobuf-dev) that a fresh
// machine does not have; .ci/run installs them and runs `npm run test:python`.
export default {
  files: ['test/python/**/*.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  workerThreads: false,
  timeout: '120s',
};
