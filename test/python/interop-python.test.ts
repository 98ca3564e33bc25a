// Interop with Python's grpcio (the C-core gRPC stack) through stubs that protoc generates from
// proto/: a host agent syncs hosts, a scheduler streams FindTargets, and a bad request's
// google.rpc.Status is read from the grpc-status-details-bin trailer (test/helpers/grpcio-client.py).
//
// Needs Debian's python3-grpcio, protobuf-compiler, protobuf-compiler-grpc and libprotobuf-dev
// (the well-known .proto files). Debian's python3-grpc-tools bundles protoc 3.5, which predates
// proto3 `optional`, so stubs come from protoc 3.21 with grpc_python_plugin instead. If any is
// missing the test fails, naming the packages: it never skips.

import test from 'ava';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, run } from '../helpers/cli.ts';
import { startTestServer, tempDir } from '../helpers/server.ts';

const PYTHON = '/usr/bin/python3';
const PROTOC = '/usr/bin/protoc';
const GRPC_PYTHON_PLUGIN = '/usr/bin/grpc_python_plugin';
const WELL_KNOWN_PROTOS = '/usr/include';
const PACKAGES = 'apt-get install -y python3-grpcio protobuf-compiler protobuf-compiler-grpc libprotobuf-dev';

const PROTOS = [
  'devcompat/v1/descriptor.proto',
  'devcompat/v1/registry.proto',
  'devcompat/v1/compatibility.proto',
  'devcompat/v1/history.proto',
  'google/rpc/status.proto',
  'google/rpc/error_details.proto',
];

test('grpcio: SyncHost, the FindTargets stream and rich error details from Python', async (t) => {
  const missing = [PYTHON, PROTOC, GRPC_PYTHON_PLUGIN, path.join(WELL_KNOWN_PROTOS, 'google/protobuf/timestamp.proto')].filter(
    (file) => !existsSync(file),
  );
  const imports = existsSync(PYTHON) ? await run(PYTHON, ['-c', 'import grpc, google.protobuf']) : undefined;
  if (missing.length > 0 || imports?.code !== 0) {
    t.fail(`Python gRPC interop needs Debian packages (${PACKAGES}); missing: ${[...missing, imports?.stderr.trim()].filter(Boolean).join('; ')}`);
    return;
  }

  const stubs = tempDir(t);
  const generated = await run(PROTOC, [
    `-I${path.join(REPO_ROOT, 'proto')}`,
    `-I${WELL_KNOWN_PROTOS}`,
    `--python_out=${stubs}`,
    `--grpc_python_out=${stubs}`,
    `--plugin=protoc-gen-grpc_python=${GRPC_PYTHON_PLUGIN}`,
    ...PROTOS,
  ]);
  t.is(generated.code, 0, `protoc: ${generated.stderr}`);
  t.true(existsSync(path.join(stubs, 'devcompat/v1/compatibility_pb2_grpc.py')));

  const { server, client } = await startTestServer(t);
  const result = await run(PYTHON, [path.join(REPO_ROOT, 'test/helpers/grpcio-client.py'), server.address, stubs, 't1']);
  t.is(result.code, 0, `grpcio-client.py failed: ${result.stderr}`);
  const out = JSON.parse(result.stdout);

  t.deepEqual(out.syncs, [1, 2, 3, 4, 5].map((revision) => ({ revision, changed: true, created: 1 })));
  t.is(out.resync_code, 'ABORTED');

  const device = (host: string) => `hosts/py-t1-${host}/devices/0000:3b:00.0`;
  t.deepEqual(out.stream, [
    // The exact match first though it has fewer free instances; then the newer manager; the
    // older manager fails a warn-only rule, so it comes last among the compatible.
    { name: device('same'), rank: 1, verdict: 'VERDICT_COMPATIBLE', exact: true, problems: [] },
    { name: device('newer'), rank: 2, verdict: 'VERDICT_COMPATIBLE', exact: false, problems: [] },
    { name: device('older'), rank: 3, verdict: 'VERDICT_COMPATIBLE_WITH_WARNINGS', exact: false, problems: ['manager:VERSION_LOWER'] },
    { name: device('noecc'), rank: 0, verdict: 'VERDICT_INCOMPATIBLE', exact: false, problems: ['ecc:VALUE_MISMATCH'] },
    { summary: { revision: 5, candidates: 4, compatible: 3, rejected: 1 } },
  ]);

  const violation = 'devices[0].descriptor.attributes["Bad Name"]';
  t.deepEqual(out.error, {
    code: 'INVALID_ARGUMENT',
    message: `${violation}: attribute names must match ^[a-z][a-z0-9_.-]{0,62}$`,
    status_code: 3,
    status_message: `${violation}: attribute names must match ^[a-z][a-z0-9_.-]{0,62}$`,
    reason: 'INVALID_ARGUMENT',
    domain: 'devcompat',
    violations: [{ field: violation, description: 'attribute names must match ^[a-z][a-z0-9_.-]{0,62}$' }],
  });
  t.false(out.stored_bad);

  // The metadata the Python agent sent is the actor in history.
  const actors = new Set<string>();
  for await (const entry of client.history({ resource: 'hosts/py-t1-src' })) actors.add(entry.actor);
  t.deepEqual([...actors], ['python-agent']);
});
