// `x-devcompat-min-revision` on one server (server/grpc/min-revision.ts): a read naming a
// revision the server has is answered at once, one naming a later revision waits for it to be
// committed, one never reached ends UNAVAILABLE at its deadline, and a malformed value is
// INVALID_ARGUMENT naming the key. (Across replicas: test/postgres/replicas.test.ts.)

import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import type { SyncHostRequest } from '../client/client.ts';
import { MIN_REVISION_METADATA_KEY } from '../proto/wire.ts';
import { startTestServer } from './helpers/server.ts';
import { rawClients, unaryCall } from './helpers/watch.ts';

const host = (name: string, version: string) =>
  ({ name, devices: [{ device_id: 'gpu0', descriptor: { vendor: 'nvidia', device_api: 'vfio-pci', type: 'a10', software_version: version } }] }) as SyncHostRequest;

const atLeast = (revision: number | string) => {
  const metadata = new grpc.Metadata();
  metadata.set(MIN_REVISION_METADATA_KEY, String(revision));
  return metadata;
};

test('min revision: answered at once when reached, held until a later write commits, UNAVAILABLE at the deadline, INVALID_ARGUMENT when malformed', async (t) => {
  const { server, client } = await startTestServer(t);
  const raw = rawClients(server.address);
  t.teardown(() => raw.close());
  const first = await client.syncHost(host('a', '1.0.0'));
  const now = await unaryCall(raw.registry, 'GetHost', { name: 'hosts/a' }, atLeast(first.revision));
  t.is(String(now.revision), String(first.revision));

  // A read naming the next revision is held until that write commits, then sees it.
  const held = unaryCall(raw.registry, 'GetHost', { name: 'hosts/a' }, atLeast(Number(first.revision) + 1));
  const second = await client.syncHost(host('a', '2.0.0'));
  t.is(String((await held).revision), String(second.revision));

  const error = await new Promise<grpc.ServiceError>((resolve) =>
    raw.registry.GetHost({ name: 'hosts/a' }, atLeast(999), { deadline: Date.now() + 300 }, (e: grpc.ServiceError) => resolve(e)),
  );
  t.true(error.code === grpc.status.UNAVAILABLE || error.code === grpc.status.DEADLINE_EXCEEDED, `${error.code}: ${error.details}`);

  const malformed = await unaryCall(raw.registry, 'GetHost', { name: 'hosts/a' }, atLeast('soon')).catch((e) => e);
  t.is(malformed.code, grpc.status.INVALID_ARGUMENT);
  t.regex(malformed.message, /x-devcompat-min-revision/);
});
