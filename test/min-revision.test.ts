// Read your own writes on one server (server/grpc/min-revision.ts), through the request field
// `min_revision` that every read request has (the client's `minRevision` option) and through
// the request metadata `x-devcompat-min-revision`: a read naming a revision the server has is
// answered at once, one naming a later revision is held until that write commits, one never
// reached ends UNAVAILABLE before its deadline naming both revisions, and a malformed value is
// INVALID_ARGUMENT naming the field. (Across replicas: test/postgres/replicas.test.ts.)

import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import { DevcompatClient, DevcompatError, type SyncHostRequest } from '../client/client.ts';
import { MIN_REVISION_METADATA_KEY } from '../proto/wire.ts';
import { devcompat } from './helpers/cli.ts';
import { startTestServer } from './helpers/server.ts';
import { rawClients, unaryCall } from './helpers/watch.ts';

const host = (name: string, version: string) =>
  ({ name, devices: [{ device_id: 'gpu0', descriptor: { vendor: 'nvidia', device_api: 'vfio-pci', type: 'a10', software_version: version } }] }) as SyncHostRequest;

const atLeast = (revision: number | string) => {
  const metadata = new grpc.Metadata();
  metadata.set(MIN_REVISION_METADATA_KEY, String(revision));
  return metadata;
};

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => DevcompatError.from(error),
  );

/** Resolves once the server has answered a plain read sent after the calls already made on the same channel: by then they have arrived. */
async function arrived(client: DevcompatClient): Promise<void> {
  await client.getHost('a');
}

test('metadata: answered at once when reached, held until a later write commits, UNAVAILABLE before the deadline, INVALID_ARGUMENT when malformed', async (t) => {
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
    raw.registry.GetHost({ name: 'hosts/a' }, atLeast(999), { deadline: Date.now() + 1500 }, (e: grpc.ServiceError) => resolve(e)),
  );
  t.is(error.code, grpc.status.UNAVAILABLE, error.details);
  t.regex(error.details, new RegExp(`revision ${second.revision}, not yet the ${MIN_REVISION_METADATA_KEY} 999`));

  const malformed = await unaryCall(raw.registry, 'GetHost', { name: 'hosts/a' }, atLeast('soon')).catch((e) => e);
  t.is(malformed.code, grpc.status.INVALID_ARGUMENT);
  t.regex(malformed.message, /x-devcompat-min-revision/);
  t.is(malformed.fieldViolations[0]?.field, MIN_REVISION_METADATA_KEY);
});

test('min_revision field: at or below the head answers at once; beyond it UNAVAILABLE before the deadline, naming the revision asked and the one reached', async (t) => {
  const { client } = await startTestServer(t);
  const written = await client.syncHost(host('a', '1.0.0'));
  const head = BigInt(written.revision);

  const found = await client.getHost('a', { minRevision: written.revision });
  t.is(found.revision, written.revision);
  const page = await client.listDevicesPage({ minRevision: head - 1n });
  t.is(page.revision, written.revision);

  const started = Date.now();
  const error = await failure(client.getHost('a', { minRevision: head + 5n, deadlineMs: 1500 }));
  t.truthy(error);
  t.is(error!.code, grpc.status.UNAVAILABLE, error!.message);
  t.regex(error!.message, new RegExp(`applied revision ${head}, not yet the min_revision ${head + 5n} asked for`));
  t.is(error!.metadata.min_revision, String(head + 5n));
  t.is(error!.metadata.revision, String(head));
  // It waited for the revision (the call's deadline less a margin), rather than refusing at once.
  t.true(Date.now() - started >= 1000, `answered after ${Date.now() - started} ms`);
});

test('min_revision field: a read held for a later revision is released by the write that reaches it, on unary calls and on streams', async (t) => {
  const { client } = await startTestServer(t);
  const first = await client.syncHost(host('a', '1.0.0'));
  await client.syncHost(host('b', '1.0.0'));
  const next = BigInt(first.revision) + 2n;

  let settled = false;
  const heldHost = client.getHost('a', { minRevision: next }).finally(() => (settled = true));
  const heldFind = (async () => {
    const items = [];
    for await (const item of client.findTargets('hosts/b/devices/gpu0', { minRevision: next, includeSourceHost: true })) items.push(item);
    return items;
  })();
  const heldCheck = client.check('hosts/a/devices/gpu0', 'hosts/b/devices/gpu0', { minRevision: next });
  const heldClaims = client.claims.listPage({ minRevision: next });
  const stream = client.checkStream({ minRevision: next });
  t.teardown(() => stream.close().catch(() => undefined));
  const heldStreamCheck = stream.check('hosts/a/devices/gpu0', 'hosts/b/devices/gpu0');
  await arrived(client);
  t.false(settled, 'a read naming a revision not yet committed is held');

  const second = await client.syncHost(host('a', '2.0.0'));
  t.is(BigInt(second.revision), next);
  const hostA = await heldHost;
  t.is(hostA.revision, second.revision);
  const summary = (await heldFind).find((item) => 'summary' in item);
  t.is(summary && 'summary' in summary ? summary.summary.revision : undefined, second.revision);
  t.is((await heldCheck).revision, second.revision);
  t.is((await heldClaims).revision, second.revision);
  t.is((await heldStreamCheck).revision, second.revision);
});

test('min_revision field: WatchTargets and Watch start from the revision asked for', async (t) => {
  const { client } = await startTestServer(t);
  const first = await client.syncHost(host('a', '1.0.0'));
  const next = BigInt(first.revision) + 1n;
  const controller = new AbortController();
  t.teardown(() => controller.abort());
  const initial = (async () => {
    for await (const message of client.watchTargets('hosts/a/devices/gpu0', { minRevision: next, includeSourceHost: true, signal: controller.signal })) {
      if (message.initial_complete) return message;
    }
    return undefined;
  })();
  const created = (async () => {
    for await (const message of client.watch({ minRevision: next, signal: controller.signal })) if (message.created) return message;
    return undefined;
  })();
  await arrived(client);
  const second = await client.syncHost(host('b', '1.0.0'));
  t.is(BigInt(second.revision), next);
  t.is((await initial)?.revision, second.revision);
  // The initial set already holds the host written at that revision.
  t.is((await created)?.revision, second.revision);
});

test('min_revision field and metadata together: the call waits for the higher of the two', async (t) => {
  const { server, client } = await startTestServer(t);
  const raw = rawClients(server.address);
  t.teardown(() => raw.close());
  const first = await client.syncHost(host('a', '1.0.0'));
  const next = Number(first.revision) + 1;
  let settled = false;
  const byField = unaryCall(raw.registry, 'GetHost', { name: 'hosts/a', min_revision: next }, atLeast(first.revision)).finally(() => (settled = true));
  const byMetadata = unaryCall(raw.registry, 'GetHost', { name: 'hosts/a', min_revision: first.revision }, atLeast(next));
  await arrived(client);
  t.false(settled);
  const second = await client.syncHost(host('a', '2.0.0'));
  t.is(String((await byField).revision), second.revision);
  t.is(String((await byMetadata).revision), second.revision);
});

test('min_revision field: a value that is not a revision is INVALID_ARGUMENT naming min_revision, and nothing waits', async (t) => {
  const { server, client } = await startTestServer(t);
  const raw = rawClients(server.address);
  t.teardown(() => raw.close());
  await client.syncHost(host('a', '1.0.0'));
  const negative = await unaryCall(raw.registry, 'GetHost', { name: 'hosts/a', min_revision: -1 }).catch((e) => e);
  t.is(negative.code, grpc.status.INVALID_ARGUMENT);
  t.is(negative.fieldViolations[0]?.field, 'min_revision');
  t.regex(negative.message, /^min_revision: must be a revision/);

  const huge = await failure(client.listHostsPage({ minRevision: '9223372036854775807' }));
  t.is(huge?.code, grpc.status.INVALID_ARGUMENT);
  t.is(huge?.fieldViolations[0]?.field, 'min_revision');

  const fromClient = await failure(client.getDevice('hosts/a/devices/gpu0', { minRevision: -3 }));
  t.is(fromClient?.code, grpc.status.INVALID_ARGUMENT);
  t.is(fromClient?.fieldViolations[0]?.field, 'min_revision');

  // A check stream's floor is checked when the stream is opened, as a unary read's: thrown at
  // once, naming the field, never later from inside the stream (which would crash the caller).
  for (const minRevision of ['abc', '12abc', '']) {
    t.throws(() => client.checkStream({ minRevision }), { message: /^min_revision: expected an integer/ }, JSON.stringify(minRevision));
  }
  const negativeStream = client.checkStream({ minRevision: -1 });
  const item = await failure(negativeStream.check('hosts/a/devices/gpu0', 'hosts/a/devices/gpu0'));
  await negativeStream.close().catch(() => undefined);
  t.is(item?.code, grpc.status.INVALID_ARGUMENT, 'a negative floor reaches the server, which names the field');
  t.regex(item?.message ?? '', /min_revision/);
});

test('readYourWrites: the client remembers the newest revision its own writes returned', async (t) => {
  const { server, client } = await startTestServer(t);
  const session = new DevcompatClient({ address: server.address, readYourWrites: true });
  t.teardown(() => session.close());
  t.is(session.sessionRevision, '0');
  const synced = await session.syncHost(host('a', '1.0.0'));
  t.is(session.sessionRevision, synced.revision);
  // Another client's writes do not move this session.
  const other = await client.syncHost(host('b', '1.0.0'));
  t.is(session.sessionRevision, synced.revision);
  const drained = await session.setHostDraining('b', true);
  t.is(session.sessionRevision, drained.revision);
  t.true(BigInt(drained.revision) > BigInt(other.revision));
  const deleted = await session.deleteHost('b');
  t.is(session.sessionRevision, deleted.revision);
  // Reads do not move it; a read's own older minRevision does not lower it.
  const page = await session.listHostsPage({ minRevision: 1 });
  t.is(page.revision, deleted.revision);
  t.is(session.sessionRevision, deleted.revision);
  // A client without readYourWrites keeps no session.
  t.is(client.sessionRevision, '0');
});

test('readYourWrites: a read through a server behind the session is held until that server reaches it', async (t) => {
  const first = await startTestServer(t);
  const session = new DevcompatClient({ address: first.server.address, readYourWrites: true });
  t.teardown(() => session.close());
  await session.syncHost(host('a', '1.0.0'));
  const written = await session.syncHost(host('b', '1.0.0'));
  // The same address now serves another registry, still at revision 0: a server behind the session.
  await first.server.close();
  const behind = await startTestServer(t, { address: first.server.address });
  const error = await failure(session.listHostsPage({ deadlineMs: 3000 }));
  t.is(error?.code, grpc.status.UNAVAILABLE, error?.message);
  t.regex(error?.message ?? '', new RegExp(`not yet the min_revision ${written.revision} asked for`));
  // Once it has reached the session's revision, the same read is answered.
  await behind.client.syncHost(host('x', '1.0.0'));
  const caughtUp = await behind.client.syncHost(host('y', '1.0.0'));
  t.is(caughtUp.revision, written.revision);
  const page = await session.listHostsPage();
  t.deepEqual(
    page.hosts.map((h) => h.name),
    ['hosts/x', 'hosts/y'],
  );
});

test('CLI --min-revision: a read at a reached revision answers; beyond the head it fails UNAVAILABLE naming both; a value that is no revision is refused naming the flag', async (t) => {
  const { server, client } = await startTestServer(t);
  const written = await client.syncHost(host('a', '1.0.0'));
  const reached = await devcompat(server.address, ['--json', 'hosts', 'get', 'a', '--min-revision', written.revision]);
  t.is(reached.code, 0, reached.stderr);
  t.is(JSON.parse(reached.stdout).revision, written.revision);
  const listed = await devcompat(server.address, ['devices', 'list', '--min-revision', written.revision]);
  t.is(listed.code, 0, listed.stderr);
  t.regex(listed.stdout, /hosts\/a\/devices\/gpu0/);

  const ahead = String(BigInt(written.revision) + 5n);
  const behind = await devcompat(server.address, ['--timeout', '1500', 'hosts', 'get', 'a', '--min-revision', ahead]);
  t.not(behind.code, 0);
  t.regex(behind.stderr, new RegExp(`UNAVAILABLE.*applied revision ${written.revision}, not yet the min_revision ${ahead}`));

  const malformed = await devcompat(server.address, ['find', 'hosts/a/devices/gpu0', '--min-revision', 'soon']);
  t.not(malformed.code, 0);
  t.regex(malformed.stderr, /--min-revision/);
});
