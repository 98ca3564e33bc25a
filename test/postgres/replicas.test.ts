// Several replicas over one PostgreSQL database (issue 13): writes from any replica form one
// global gap-free sequence of revisions and one history chain; each replica follows the others
// (LISTEN/NOTIFY as the wake-up, the revisions table as the truth), so watchers on every
// replica see the same revisions, in the same order, with no gap and no duplicate, and reads
// on any replica reflect writes made through another once it has caught up, or at once when
// the read names the write's revision (min_revision, readYourWrites).

import test, { type ExecutionContext } from 'ava';
import { DevcompatClient, type SyncHostRequest } from '../../client/client.ts';
import { scrape } from '../helpers/metrics.ts';
import { postgresStore } from '../../server/store/postgres-store.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { testDatabase } from '../helpers/postgres.ts';
import { rawClients, unaryCall, WatchRecorder } from '../helpers/watch.ts';
import * as grpc from '@grpc/grpc-js';
import pg from 'pg';
import { capturedLog } from '../helpers/log.ts';
import { MIN_REVISION_METADATA_KEY } from '../../proto/wire.ts';

const GPU = (version: string) => ({ vendor: 'nvidia', device_api: 'vfio-pci', type: 'nvidia-a10-4q', software_version: version });

function host(name: string, version: string): SyncHostRequest {
  return {
    name,
    devices: [
      { device_id: 'gpu0', descriptor: GPU(version) },
      { device_id: 'gpu1', descriptor: GPU(version) },
    ],
  } as SyncHostRequest;
}

async function replicas(t: ExecutionContext, count: number, options: { metricsAddress?: string } = {}): Promise<{ url: string; servers: TestServer[] }> {
  const url = await testDatabase(t);
  const servers: TestServer[] = [];
  for (let i = 0; i < count; i++) servers.push(await startTestServer(t, { store: postgresStore({ url }), ...options }));
  return { url, servers };
}

function watchFrom(t: ExecutionContext, server: TestServer, startRevision: number): WatchRecorder {
  const raw = rawClients(server.server.address);
  const recorder = new WatchRecorder(raw.watch, { start_revision: String(startRevision) });
  t.teardown(() => {
    recorder.cancel();
    raw.close();
  });
  return recorder;
}

test('three replicas, writers spread over them: every watcher sees the same revisions in the same order, no gap, no duplicate', async (t) => {
  const { servers } = await replicas(t, 3);
  const watchers = servers.map((server) => watchFrom(t, server, 1));
  const writes = 60;
  const acknowledged: number[] = [];
  // Six writers in parallel, each on its own replica in turn, over a few hosts: the replicas
  // contend for the head row and re-plan when another one wrote first.
  let next = 0;
  const writer = async () => {
    while (next < writes) {
      const i = next++;
      const response = await servers[i % 3].client.syncHost(host(`h${i % 7}`, `1.${i}.0`));
      acknowledged.push(Number(response.revision));
    }
  };
  await Promise.all(Array.from({ length: 6 }, writer));
  t.is(acknowledged.length, writes);
  // Every write changed its host's devices: one revision each, numbered 1..60 whoever wrote it.
  t.deepEqual([...acknowledged].sort((a, b) => a - b), Array.from({ length: writes }, (_, i) => i + 1));

  const expected = Array.from({ length: writes }, (_, i) => i + 1);
  for (const watcher of watchers) {
    await watcher.waitFor((w) => w.revisions.length >= writes, 60_000, `${writes} revisions`);
    t.deepEqual(watcher.revisions, expected);
  }
  // The same revision carries the same events and the same chain head on every replica.
  const digest = (watcher: WatchRecorder) =>
    watcher.eventMessages.map((m) => JSON.stringify([m.revision, m.head_hash, m.events.map((e) => [e.kind, e.resource, e.after])]));
  t.deepEqual(digest(watchers[1]), digest(watchers[0]));
  t.deepEqual(digest(watchers[2]), digest(watchers[0]));

  // One chain: it verifies whole from any replica, to the same head.
  for (const server of servers) {
    await server.server.registry.catchUp();
    const verified = await server.server.registry.verifyHistory(undefined);
    t.is(verified.broken, undefined);
    t.is(server.server.registry.headHash, servers[0].server.registry.headHash);
    t.is(server.server.registry.revision, writes);
  }
});

test('a write through one replica is read on another once it caught up; expected_revision is checked against the database, not a stale copy', async (t) => {
  const { servers } = await replicas(t, 2);
  const [a, b] = servers;
  const created = await a.client.syncHost(host('shared', '1.0.0'));
  await b.server.registry.catchUp();
  const seen = await b.client.getHost('hosts/shared');
  t.is(Number(seen.revision), Number(created.revision));
  // B updates at the revision it read; A's copy is then stale, but its expected_revision check
  // runs after catching up, so a write expecting B's revision succeeds and one expecting the
  // old revision is refused.
  const updated = await b.client.syncHost({ ...host('shared', '2.0.0'), expected_revision: seen.revision } as SyncHostRequest);
  const refused = await a.client.syncHost({ ...host('shared', '3.0.0'), expected_revision: created.revision } as SyncHostRequest).catch((e) => e);
  t.is(refused.code, 10, String(refused)); // ABORTED
  const accepted = await a.client.syncHost({ ...host('shared', '3.0.0'), expected_revision: updated.revision } as SyncHostRequest);
  t.is(Number(accepted.revision), Number(updated.revision) + 1);
});

test('x-devcompat-min-revision: a read through another replica waits for the write it names; one beyond the head ends UNAVAILABLE at the deadline', async (t) => {
  const { servers } = await replicas(t, 2);
  const [a, b] = servers;
  const rawB = rawClients(b.server.address);
  t.teardown(() => rawB.close());
  for (let i = 0; i < 5; i++) {
    const written = await a.client.syncHost(host(`ryw-${i}`, `1.${i}.0`));
    const metadata = new grpc.Metadata();
    metadata.set(MIN_REVISION_METADATA_KEY, String(written.revision));
    // Straight after the write, through the other replica: its answer reflects the write.
    const read = await unaryCall(rawB.registry, 'GetHost', { name: `hosts/ryw-${i}` }, metadata);
    t.is(String(read.revision), String(written.revision));
  }
  const ahead = new grpc.Metadata();
  ahead.set(MIN_REVISION_METADATA_KEY, '1000000');
  const started = Date.now();
  const error = await new Promise<grpc.ServiceError>((resolve) =>
    rawB.registry.GetHost({ name: 'hosts/ryw-0' }, ahead, { deadline: Date.now() + 1500 }, (e: grpc.ServiceError) => resolve(e)),
  );
  t.is(error.code, grpc.status.UNAVAILABLE, error.details);
  t.regex(error.details, /not yet the x-devcompat-min-revision 1000000 asked for/);
  t.true(Date.now() - started < 5_000);
});

test('min_revision through the client: a read on another replica, naming the revision a write returned, reflects the write; one beyond the head is UNAVAILABLE naming both revisions', async (t) => {
  const { servers } = await replicas(t, 2);
  const [a, b] = servers;
  for (let i = 0; i < 5; i++) {
    const written = await a.client.syncHost(host(`field-${i}`, `1.${i}.0`));
    // Straight after the write, through the other replica, on each kind of read.
    const got = await b.client.getHost(`field-${i}`, { minRevision: written.revision });
    t.is(got.revision, written.revision);
    const page = await b.client.listDevicesPage({ filter: { host: `field-${i}` }, minRevision: written.revision });
    t.is(page.devices.length, 2);
    t.true(BigInt(page.revision) >= BigInt(written.revision));
    let summary: string | undefined;
    for await (const item of b.client.findTargets(`hosts/field-${i}/devices/gpu0`, { minRevision: written.revision, includeSourceHost: true })) {
      if ('summary' in item) summary = item.summary.revision;
    }
    t.true(BigInt(summary ?? 0) >= BigInt(written.revision));
  }
  const head = BigInt(b.server.registry.revision);
  const error = await b.client.getHost('field-0', { minRevision: head + 1000n, deadlineMs: 1500 }).catch((e) => e);
  t.is(error.code, grpc.status.UNAVAILABLE, error.message);
  t.regex(error.message, new RegExp(`applied revision ${head}, not yet the min_revision ${head + 1000n} asked for`));
});

test('readYourWrites: one client spread over two replicas reads each of its writes, whichever replica answers', async (t) => {
  const { servers } = await replicas(t, 2, { metricsAddress: '127.0.0.1:0' });
  const [a, b] = servers;
  // One channel to both replicas, calls spread round-robin: what a client behind a DNS name
  // with several replicas gets.
  const client = new DevcompatClient({
    address: `ipv4:${a.server.address},${b.server.address}`,
    readYourWrites: true,
    channelOptions: { 'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }) },
  });
  t.teardown(() => client.close());
  for (let i = 0; i < 20; i++) {
    const written = await client.syncHost(host('session', `1.${i}.0`));
    t.is(client.sessionRevision, written.revision);
    // The next read goes to either replica; the session's min_revision makes it reflect the write.
    const read = await client.getHost('session');
    t.is(read.revision, written.revision);
    const device = await client.getDevice('hosts/session/devices/gpu0');
    t.is(device.descriptor?.software_version, `1.${i}.0`);
  }
  // Both replicas answered reads, and both applied every write.
  for (const server of servers) {
    const metrics = await scrape(server.server.metricsAddress!);
    t.true(metrics.value('grpc_server_handled_total', { grpc_method: 'GetHost', grpc_code: 'OK' }) > 0);
  }
  await Promise.all(servers.map((s) => s.server.registry.catchUp()));
  t.is(a.server.registry.revision, b.server.registry.revision);
  t.is(String(a.server.registry.revision), client.sessionRevision);
});

test('a replica that cannot read the log for a reason other than an unreachable database says so once, stays at its revision, and says when it follows again', async (t) => {
  const url = await testDatabase(t);
  const a = await startTestServer(t, { store: postgresStore({ url }) });
  // Replica b connects as a role of its own, which an operator's mistake will leave without
  // SELECT on history: its queries are refused (42501), the database is reachable.
  const role = `devcompat_replica_${process.pid}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  t.teardown(async () => {
    await admin.query(`DROP OWNED BY ${role}`).catch(() => undefined);
    await admin.end();
  });
  await admin.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
  await admin.query(`CREATE ROLE ${role} LOGIN`);
  await admin.query(`GRANT ALL ON SCHEMA public TO ${role}; GRANT ALL ON ALL TABLES IN SCHEMA public TO ${role}; GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO ${role}`);
  const asRole = new URL(url);
  asRole.username = role;
  asRole.password = '';
  const log = capturedLog();
  const b = await startTestServer(t, { store: postgresStore({ url: asRole.toString() }), logger: log.logger });

  await a.client.syncHost(host('h1', '1.0.0'));
  await b.server.registry.catchUp();
  t.truthy(b.server.registry.findHost('h1'));
  const before = b.server.registry.revision;

  await admin.query(`REVOKE SELECT ON history FROM ${role}`);
  await a.client.syncHost(host('h2', '1.0.0'));
  const failed = await log.waitFor(`cannot follow the database: this replica's answers stay at revision ${before} until it can`);
  t.is(failed.level, 50, 'logged as an error');
  t.regex(failed.err.message, /permission denied for table history/);
  t.is(b.server.registry.revision, before, 'it answers at the revision it had');
  t.is(b.server.registry.findHost('h2'), undefined);
  // Every later wake-up fails the same way: not another line for each.
  await a.client.syncHost(host('h3', '1.0.0'));
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.is(log.lines.filter((line) => /follow the database/.test(line.msg)).length, 1);

  await admin.query(`GRANT SELECT ON history TO ${role}`);
  await a.client.syncHost(host('h4', '1.0.0'));
  const recovered = await log.waitFor('following the database again');
  t.true(recovered.failures >= 1);
  await b.server.registry.catchUp();
  t.is(b.server.registry.revision, a.server.registry.revision);
  for (const name of ['h2', 'h3', 'h4']) t.truthy(b.server.registry.findHost(name), name);
});
