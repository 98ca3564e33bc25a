// An audit trail that cannot be quietly erased, and identities in it: the on-behalf-of
// annotation is chained (version 2 encoding) while entries written before it still verify;
// compactions are recorded (who, when, the head then), chained, and reported by VerifyHistory;
// under mutual TLS only an admin compacts and the record names its identity.

import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { DevcompatClient } from '../client/client.ts';
import { parsePolicy } from '../server/core/authz.ts';
import { readMigrations } from '../server/store/migrate.ts';
import { openDatabase } from '../server/store/open-database.ts';
import { issue, issueServer, makeCa } from './helpers/certs.ts';
import { editHistory } from './helpers/history-edit.ts';
import { gvt, historyOf, rejectsWith } from './helpers/integration.ts';
import { startupRefusal, startTestServer, tempDir } from './helpers/server.ts';

const host = (name: string, version = '1.2.0') => ({ name, devices: [{ device_id: 'gpu0', descriptor: gvt(version) }] });

function tamper(dbPath: string, sql: string): number {
  const db = openDatabase(dbPath, { timeout: 5000 });
  try {
    return db.prepare(sql).run().changes;
  } finally {
    db.close();
  }
}

async function mtls(t: Parameters<typeof startTestServer>[0]) {
  const dir = tempDir(t);
  const ca = makeCa(dir, 'ca');
  const serverCert = issueServer(dir, ca);
  const running = await startTestServer(t, {
    dir,
    tls: { certFile: serverCert.cert, keyFile: serverCert.key, clientCaFile: ca.cert },
    authz: parsePolicy({ bindings: [{ identity: 'agent:*', role: 'agent' }, { identity: 'scheduler:*', role: 'scheduler' }, { identity: 'auditor:*', role: 'auditor' }, { identity: 'admin:*', role: 'admin' }] }, 'policy'),
    client: { tls: { caFile: ca.cert } },
  });
  const as = (kind: string, name: string, actor?: string) => {
    const files = issue(dir, ca, `${kind}-${name}`, [`URI:spiffe://example.org/${kind}/${name}`]);
    const client = new DevcompatClient({ address: running.server.address, actor, tls: { caFile: ca.cert, certFile: files.cert, keyFile: files.key }, retry: { maxAttempts: 1 } });
    t.teardown(() => client.close());
    return client;
  };
  return { ...running, as };
}

test('under mutual TLS the forged actor is kept only as on-behalf-of, chained: editing it is caught', async (t) => {
  const { as, server, dbPath, dir } = await mtls(t);
  await as('agent', 'host-a', 'ops@alice').syncHost(host('host-a'));
  await as('agent', 'host-a').syncHost(host('host-a', '1.3.0'));
  const auditor = as('auditor', 'kim');
  const entries = await historyOf(auditor, { resource: 'hosts/host-a' });
  t.true(entries.length >= 2);
  t.true(entries.every((entry) => entry.actor === 'agent:host-a'));
  t.deepEqual([...new Set(entries.map((entry) => entry.on_behalf_of))].sort(), ['', 'ops@alice']);
  t.true((await auditor.verifyHistory()).intact);
  await server.close();

  // Behind the stopped server: dropping the annotation, or adding one to an entry without it.
  // A tampered file is refused at start-up (the start-up chain check); with the check off the
  // server starts, and VerifyHistory says what was altered.
  const restart = async () => {
    const refused = await startupRefusal(t, dbPath, dir);
    const running = await startTestServer(t, { dbPath, dir, startupChainCheck: 0 });
    const verdict = await running.client.verifyHistory();
    await running.server.close();
    t.is(refused === undefined, verdict.intact === true, `start-up check and VerifyHistory agree (${refused?.message ?? 'started'})`);
    return verdict;
  };
  t.true(editHistory(dbPath, "UPDATE history_entries SET on_behalf_of = 'someone-else' WHERE on_behalf_of = 'ops@alice'") > 0);
  t.like(await restart(), { intact: false, problem: 'CHAIN_PROBLEM_ALTERED' });
  t.true(editHistory(dbPath, "UPDATE history_entries SET on_behalf_of = 'ops@alice' WHERE on_behalf_of = 'someone-else'") > 0);
  t.like(await restart(), { intact: true });
  t.true(editHistory(dbPath, "UPDATE history_entries SET on_behalf_of = 'mallory' WHERE on_behalf_of = '' AND revision = (SELECT MAX(revision) FROM history)") > 0);
  t.like(await restart(), { intact: false, problem: 'CHAIN_PROBLEM_ALTERED' });
});

test('only an admin compacts; VerifyHistory then reports what was compacted, when, by whom and the head then', async (t) => {
  const { as } = await mtls(t);
  const admin = as('admin', 'ops', 'ticket-42');
  for (let i = 0; i < 4; i++) await admin.syncHost(host(`h${i}`));
  await rejectsWith(t, as('scheduler', 'nova').compactHistory(2), grpc.status.PERMISSION_DENIED);
  await rejectsWith(t, as('auditor', 'kim').compactHistory(2), grpc.status.PERMISSION_DENIED);
  const before = Date.now();
  const compacted = await admin.compactHistory(2);
  t.like(compacted.compaction, { actor: 'admin:ops', checkpoint_revision: '2', entries_removed: '4', head_revision: '4' });

  const verified = await as('auditor', 'kim').verifyHistory();
  t.true(verified.intact, 'what is left chains from the checkpoint');
  t.is(verified.compactions.length, 1);
  const [record] = verified.compactions;
  t.like(record, { actor: 'admin:ops', checkpoint_revision: '2', entries_removed: '4', head_revision: '4' });
  t.regex(record!.head_hash, /^[0-9a-f]{64}$/);
  t.true(record!.time!.getTime() >= before - 1000);
  t.regex(verified.description, /compacted away .* by admin:ops at .* head was revision 4/);
});

test('a compaction record edited or removed behind the server is caught', async (t) => {
  const { client, server, dbPath, dir } = await startTestServer(t, { client: { actor: 'ops' } });
  for (let i = 0; i < 6; i++) await client.syncHost(host(`h${i}`));
  await client.compactHistory(2);
  await client.compactHistory(4);
  const verified = await client.verifyHistory();
  t.true(verified.intact);
  t.deepEqual(verified.compactions.map((c) => [c.checkpoint_revision, c.actor]), [['2', 'ops'], ['4', 'ops']]);
  await server.close();

  tamper(dbPath, "UPDATE history_checkpoints SET actor = 'devcompat' WHERE checkpoint_revision = 4");
  const edited = await startTestServer(t, { dbPath, dir });
  t.like(await edited.client.verifyHistory(), { intact: false, problem: 'CHAIN_PROBLEM_COMPACTION_RECORD_BROKEN' });
  await edited.server.close();
  tamper(dbPath, "UPDATE history_checkpoints SET actor = 'ops' WHERE checkpoint_revision = 4");
  tamper(dbPath, 'DELETE FROM history_checkpoints WHERE checkpoint_revision = 2');
  const removed = await startTestServer(t, { dbPath, dir });
  const result = await removed.client.verifyHistory();
  t.like(result, { intact: false, problem: 'CHAIN_PROBLEM_COMPACTION_RECORD_BROKEN' });
  t.regex(result.description, /revision 4/);
});

test('entries and a checkpoint written before migration 0003 still verify, and are reported as unrecorded', async (t) => {
  const dir = tempDir(t);
  const dbPath = path.join(dir, 'v2.db');
  // A database as the previous release left it: migrations 0001 and 0002, a compaction without
  // a record, and history chained with the version 1 formula (docs/api.md), computed here.
  const db = openDatabase(dbPath);
  const [first, second] = readMigrations();
  db.exec(first!.sql);
  db.exec(`CREATE TABLE schema_migrations (version INTEGER NOT NULL CONSTRAINT schema_migrations_pk PRIMARY KEY,
    name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at_ms INTEGER NOT NULL) STRICT`);
  db.exec(second!.sql);
  for (const m of [first!, second!]) db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?, ?)').run(m.version, m.name, m.checksum, 1);
  const checkpointHash = createHash('sha256').update('history before revision 2').digest('hex');
  db.prepare('INSERT INTO history_checkpoints VALUES (1, unhex(?), 500, 1)').run(checkpointHash);
  const created = '{"h":{"l":{},"r":2,"cr":2,"ct":1000,"ut":1000,"st":1000}}';
  const updated = '{"h":{"l":{"x":"y"},"r":3,"cr":2,"ct":1000,"ut":2000,"st":2000}}';
  db.exec(`INSERT INTO revisions (revision, time_ms, actor, reason) VALUES (1, 500, 'old-agent', ''), (2, 1000, 'old-agent', ''), (3, 2000, 'old-agent', 'relabel');
    INSERT INTO hosts (host_id, labels, revision, create_revision, create_time_ms, update_time_ms, last_sync_time_ms, lease_expire_ms)
      VALUES ('a', '{"x":"y"}', 3, 2, 1000, 2000, 2000, 8000000000000000);`);
  let prev = checkpointHash;
  const rows: [number, number, string, string, string, string | null, string][] = [
    [2, 1000, 'CREATED', 'old-agent', '', null, created],
    [3, 2000, 'UPDATED', 'old-agent', 'relabel', created, updated],
  ];
  for (const [revision, time, change, actor, reason, before, after] of rows) {
    const hash = createHash('sha256')
      .update(Buffer.from(prev, 'hex'))
      .update(JSON.stringify([revision, 0, time, 'a', '', change, actor, reason, before, after]))
      .digest('hex');
    db.prepare(
      `INSERT INTO history (revision, seq, time_ms, host_id, device_id, change, actor, reason, before, after, prev_hash, hash)
       VALUES (?, 0, ?, 'a', '', ?, ?, ?, ?, ?, unhex(?), unhex(?))`,
    ).run(revision, time, change, actor, reason, before, after, prev, hash);
    prev = hash;
  }
  db.close();

  const { client } = await startTestServer(t, { dbPath, dir, client: { actor: 'ops' } });
  const verified = await client.verifyHistory({ expectedHead: prev });
  t.like(verified, { intact: true, entries_checked: '2', head_hash: prev, checkpoint_revision: '1' });
  t.like(verified.compactions, [{ checkpoint_revision: '1', actor: '', record_hash: '', entries_removed: '1' }]);
  // A write and a compaction after the upgrade chain on from the old entries and record.
  await client.syncHost(host('b'));
  await client.compactHistory(2);
  const after = await client.verifyHistory();
  t.true(after.intact);
  t.deepEqual(after.compactions.map((c) => [c.checkpoint_revision, c.actor]), [['1', ''], ['2', 'ops']]);
});
