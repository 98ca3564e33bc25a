// Compaction seen by every replica (issue 13): history compacted through one replica (`devcompat
// audit compact`, as an operator does; `--retain` takes the same path) is learned by the others
// without a restart, so on each of them a point-in-time read or a watch start below the new
// oldest revision answers OUT_OF_RANGE naming the oldest available, exactly as on the replica
// that compacted; what is left still answers, and the chain verifies from the new checkpoint.
// A replica that was behind the cut (history it had not followed is gone) stops, to be
// restarted, rather than serve a registry it cannot bring up to date. A compaction whose row
// deletion fails still stands, and the next one deletes the rows.

import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import pg from 'pg';
import { type SyncHostRequest } from '../../client/client.ts';
import { PostgresStore, postgresStore } from '../../server/store/postgres-store.ts';
import { CLI, run } from '../helpers/cli.ts';
import { capturedLog } from '../helpers/log.ts';
import { rejectsWith } from '../helpers/integration.ts';
import { testDatabase } from '../helpers/postgres.ts';
import { startTestServer } from '../helpers/server.ts';
import { throughProxy } from '../helpers/tcp-proxy.ts';
import { eventually, rawClients, unaryCall, WatchRecorder } from '../helpers/watch.ts';

const GPU = (version: string) => ({ vendor: 'nvidia', device_api: 'vfio-pci', type: 'nvidia-a10-4q', software_version: version });
const host = (name: string, version: string) => ({ name, devices: [{ device_id: 'gpu0', descriptor: GPU(version) }] }) as SyncHostRequest;
const SRC = 'hosts/src/devices/gpu0';

test('a compaction through one replica reaches the others without restart: OUT_OF_RANGE naming the oldest revision there too', async (t) => {
  const url = await testDatabase(t);
  const compacting = await startTestServer(t, { store: postgresStore({ url }) });
  const other = await startTestServer(t, { store: postgresStore({ url }) });
  const idle = await startTestServer(t, { store: postgresStore({ url }) });
  const replicas = [compacting, other].map((replica) => {
    const raw = rawClients(replica.server.address);
    t.teardown(() => raw.close());
    return { ...replica, raw };
  });
  let last = 0;
  for (let i = 0; i < 8; i++) last = Number((await compacting.client.syncHost(host('src', `1.${i}.0`))).revision); // revisions 1 to 8
  t.true(await other.server.registry.reachRevision(last, 10_000));
  t.true(await idle.server.registry.reachRevision(last, 10_000));

  // Before: the other replica answers as of revision 2, and a watch from 2.
  const early = await unaryCall(replicas[1].raw.registry, 'GetDevice', { name: SRC, as_of_revision: '2' });
  t.is(early.device.descriptor.software_version, '1.1.0');
  const fromTwo = new WatchRecorder(replicas[1].raw.watch, { start_revision: 2 });
  await fromTwo.waitFor((w) => w.revisions.length === last - 1);
  fromTwo.cancel();

  const compacted = await run(process.execPath, [CLI, '--address', compacting.server.address, 'audit', 'compact', '--revision', '5'], {
    timeoutMs: 60_000,
  });
  t.is(compacted.code, 0, compacted.stderr);
  t.is(compacting.server.registry.oldestRevision, 6);

  // At once, without waiting for the other replica to hear of it: a read there that finds
  // history missing checks the checkpoint before answering.
  for (const [i, replica] of replicas.entries()) {
    const which = i === 0 ? 'the compacting replica' : 'the other replica';
    const gone = await rejectsWith(t, unaryCall(replica.raw.registry, 'GetDevice', { name: SRC, as_of_revision: '2' }), grpc.status.OUT_OF_RANGE, which);
    t.is(gone.reason, 'REVISION_COMPACTED', which);
    t.is(gone.metadata.oldest_revision, '5', `${which}: the state at the cut is the oldest a read can ask for`);
    const atCut = await unaryCall(replica.raw.registry, 'GetDevice', { name: SRC, as_of_revision: '5' });
    t.is(atCut.device.descriptor.software_version, '1.4.0', which);

    const old = new WatchRecorder(replica.raw.watch, { start_revision: 3 });
    await old.waitFor((w) => w.ended);
    t.is(old.error?.code, grpc.status.OUT_OF_RANGE, which);
    t.is(old.error?.metadata.oldest_revision, '6', which);
    t.regex(old.error!.message, /oldest revision available is 6/, which);
    const kept = new WatchRecorder(replica.raw.watch, { start_revision: 6 });
    await kept.waitFor((w) => w.revisions.length === last - 5);
    t.deepEqual(kept.revisions, [6, 7, 8], which);
    kept.cancel();

    const verified = await unaryCall(replica.raw.history, 'VerifyHistory', {});
    t.true(verified.intact, `${which}: ${JSON.stringify(verified.broken)}`);
    t.is(verified.checkpoint_revision, '5', which);
    t.is(verified.head_hash, compacting.server.registry.headHash, which);
  }

  // A replica nobody reads through learns it at its next wake-up (the compaction's NOTIFY, or
  // the probe within a second).
  await eventually(() => idle.server.registry.oldestRevision === 6, 20_000, 'the idle replica to learn the checkpoint');
  const idleRaw = rawClients(idle.server.address);
  t.teardown(() => idleRaw.close());
  const idleVerified = await unaryCall(idleRaw.history, 'VerifyHistory', {});
  t.true(idleVerified.intact);
  t.is(idleVerified.checkpoint_revision, '5');
});

test('a replica behind a compaction (history it had not followed is gone) stops, to be restarted; restarted, it loads the registry and serves', async (t) => {
  const url = await testDatabase(t);
  const writer = await startTestServer(t, { store: postgresStore({ url }) });
  const { proxy, url: viaProxy } = await throughProxy(t, url);
  let fatal: (error: Error) => void = () => undefined;
  const stopped = new Promise<Error>((resolve) => (fatal = resolve));
  const laggard = await startTestServer(t, { store: postgresStore({ url: viaProxy }), onFatal: (error) => fatal(error) });
  for (let i = 0; i < 3; i++) await writer.client.syncHost(host('src', `1.${i}.0`));
  t.true(await laggard.server.registry.reachRevision(3, 10_000));

  // The laggard hears nothing while the writer writes on and compacts past where it is.
  proxy.stall();
  let last = 0;
  for (let i = 3; i < 6; i++) last = Number((await writer.client.syncHost(host('src', `1.${i}.0`))).revision);
  await writer.client.compactHistory('5');
  proxy.resume();

  const error = await stopped;
  t.regex(error.message, /holds revision 3, but another server compacted the history up to revision 5/);
  t.is(laggard.server.registry.revision, 3, 'it applied nothing it could not follow');

  const restarted = await startTestServer(t, { store: postgresStore({ url }) });
  t.is(restarted.server.registry.revision, last);
  t.is(restarted.server.registry.headHash, writer.server.registry.headHash);
  t.is(restarted.server.registry.oldestRevision, 6);
  t.is((await restarted.client.getDevice(SRC)).descriptor.software_version, '1.5.0');
});

test('a compaction deletes its history a chunk at a time after it commits; rows a crash left below the checkpoint are never read, and the next compaction deletes them', async (t) => {
  const url = await testDatabase(t);
  const chunked = () => postgresStore({ url, compactionChunkRows: 7 });
  const first = await startTestServer(t, { store: chunked() });
  let last = 0;
  for (let i = 0; i < 12; i++) last = Number((await first.client.syncHost(host(`h${i % 3}`, `1.${i}.0`))).revision); // revisions 1 to 12, 2 entries each at first
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  t.teardown(() => db.end());
  const count = async (sql: string) => Number((await db.query(sql)).rows[0].n);
  const below = (await db.query('SELECT * FROM history WHERE revision <= 6 ORDER BY revision, seq')).rows;
  const expected = below.length;

  const result = await first.server.registry.compact(6, 'ops');
  t.is(result.removed, expected, 'every entry up to the cut is counted');
  t.is(await count('SELECT count(*) AS n FROM history WHERE revision <= 6'), 0, 'and deleted, over several chunks of 7');
  t.is(await count('SELECT count(*) AS n FROM revisions WHERE revision < 6'), 0);
  t.is(await count('SELECT count(*) AS n FROM revisions WHERE revision = 6'), 1, 'the revision at the cut stays');

  // A crash between chunks leaves rows below the checkpoint: put some back, as it would.
  for (const row of below.filter((r) => r.revision > 3)) {
    await db.query(
      'INSERT INTO revisions (revision, time_ms, actor, reason) SELECT $1, 0, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM revisions WHERE revision = $1)',
      [row.revision, row.actor, row.reason],
    );
    const columns = Object.keys(row);
    await db.query(`INSERT INTO history (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`, columns.map((c) => row[c]));
  }
  const left = await count('SELECT count(*) AS n FROM history WHERE revision <= 6');
  t.true(left > 0);
  // Neither reads nor checks see them: history from the start, the chain, a restart's chain check.
  const again = await first.restart();
  let listed = 0;
  for await (const entry of again.client.history({ order: 'HISTORY_ORDER_OLDEST_FIRST' })) {
    t.true(Number(entry.revision) > 6, `entry at revision ${entry.revision}`);
    listed++;
  }
  t.is(listed, await count('SELECT count(*) AS n FROM history WHERE revision > 6'));
  const verified = await again.client.verifyHistory();
  t.true(verified.intact, JSON.stringify(verified));

  // The next compaction counts only its own entries, and deletes the leftovers too.
  const fromSeven = await count('SELECT count(*) AS n FROM history WHERE revision > 6 AND revision <= 9');
  const next = await again.server.registry.compact(9, 'ops');
  t.is(next.removed, fromSeven);
  t.is(await count('SELECT count(*) AS n FROM history WHERE revision <= 9'), 0);
  t.is(Number((await again.client.syncHost(host('h0', '2.0.0'))).revision), last + 1);
  t.true((await again.client.verifyHistory()).intact);
});

test('a compaction whose row deletion the database refuses still stands: the call succeeds, the server warns, reads keep above the cut, and the next compaction deletes the rows', async (t) => {
  const url = await testDatabase(t);
  // The replica connects as a role of its own, which an operator's mistake leaves without DELETE on history.
  const role = `devcompat_compactor_${process.pid}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  t.teardown(async () => {
    await admin.query(`DROP OWNED BY ${role}`).catch(() => undefined);
    await admin.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
    await admin.end();
  });
  await admin.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
  await admin.query(`CREATE ROLE ${role} LOGIN`);
  const asRole = new URL(url);
  asRole.username = role;
  asRole.password = '';
  // The schema first (the owner migrates it), then the role gets its rights.
  await (await PostgresStore.open({ url })).close();
  await admin.query(`GRANT ALL ON SCHEMA public TO ${role}; GRANT ALL ON ALL TABLES IN SCHEMA public TO ${role}; GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO ${role}`);
  const log = capturedLog();
  const server = await startTestServer(t, { store: postgresStore({ url: asRole.toString() }), logger: log.logger });
  for (let i = 0; i < 8; i++) await server.client.syncHost(host(`h${i % 2}`, `1.${i}.0`));
  const count = async (sql: string) => Number((await admin.query(sql)).rows[0].n);
  const below = await count('SELECT count(*) AS n FROM history WHERE revision <= 4');
  t.true(below > 0);

  await admin.query(`REVOKE DELETE ON history FROM ${role}`);
  const compacted = await server.client.compactHistory(4);
  t.is(compacted.checkpoint_revision, '4', 'the compaction stands');
  const warned = await log.waitFor('compacted rows not all deleted: the next compaction deletes them');
  t.regex(warned.cause, /permission denied for table history/);
  t.is(await count('SELECT count(*) AS n FROM history WHERE revision <= 4'), below, 'the rows are still there');
  // Nothing below the cut is read: history from the start begins above it, and the chain verifies.
  let listed = 0;
  for await (const entry of server.client.history({ order: 'HISTORY_ORDER_OLDEST_FIRST' })) {
    t.true(Number(entry.revision) > 4, `entry at ${entry.revision}`);
    listed++;
  }
  t.is(listed, await count('SELECT count(*) AS n FROM history WHERE revision > 4'));
  t.true(listed > 0);
  t.true((await server.client.verifyHistory()).intact);
  const gone = await rejectsWith(t, server.client.getDevice('hosts/h0/devices/gpu0', { asOfRevision: 2 }), grpc.status.OUT_OF_RANGE);
  t.is(gone.reason, 'REVISION_COMPACTED');

  await admin.query(`GRANT DELETE ON history TO ${role}`);
  await server.client.compactHistory(6);
  t.is(await count('SELECT count(*) AS n FROM history WHERE revision <= 6'), 0, 'the next compaction deleted the leftovers too');
  t.true((await server.client.verifyHistory()).intact);
});
