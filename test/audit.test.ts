// The tamper-evident history on a real server and a real SQLite file: every entry is chained by
// SHA-256; VerifyHistory finds the first entry altered, removed or reordered behind the
// server's back, a truncated tail, and (with an expected head kept elsewhere) a rewritten
// chain; compaction keeps the chain verifiable from its checkpoint; the chain survives
// restarts, and history written before the chain existed is chained at start-up.

import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import type { SyncHostRequest } from '../client/client.ts';
import { chainedColumns, chainHash } from '../server/store/history-chain.ts';
import { readMigrations } from '../server/store/migrate.ts';
import { openDatabase } from '../server/store/open-database.ts';
import { SqliteStore } from '../server/store/sqlite-store.ts';
import { editableHistory, editHistory } from './helpers/history-edit.ts';
import { capturedLog } from './helpers/log.ts';
import { startTestServer, tempDir } from './helpers/server.ts';
import { rawClients, unaryCall } from './helpers/watch.ts';
import path from 'node:path';

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

async function start(t: Parameters<typeof startTestServer>[0], options: Parameters<typeof startTestServer>[1] = {}) {
  const running = await startTestServer(t, options);
  const raw = rawClients(running.server.address);
  t.teardown(() => raw.close());
  const verify = (expected_head = '') => unaryCall(raw.history, 'VerifyHistory', { expected_head });
  return { ...running, raw, verify };
}

/** A second connection to the server's database file: the "attacker" editing it. */
function tamper(t: Parameters<typeof startTestServer>[0], dbPath: string, sql: string, ...params: unknown[]): number {
  // openDatabase, not new Database: on Node 24 a better-sqlite3 object freed by the garbage
  // collector aborts the process (see server/store/open-database.ts).
  const db = openDatabase(dbPath, { timeout: 5000 });
  try {
    return db.prepare(sql).run(...params).changes;
  } finally {
    db.close();
  }
}

async function seed(client: { syncHost(request: SyncHostRequest): Promise<{ head_hash: string }> }, writes = 10) {
  let head = '';
  for (let i = 0; i < writes; i++) head = (await client.syncHost(host(`h${i % 3}`, `1.${i}.0`))).head_hash;
  return head;
}

test('every write answers with the chain head; history entries carry their hash, actor and reason', async (t) => {
  const server = await start(t, { client: { actor: 'agent-7' } as any });
  const metadata = new grpc.Metadata();
  metadata.set('x-devcompat-actor', 'agent-7');
  metadata.set('x-devcompat-reason', 'driver upgrade');
  const response = await unaryCall(server.raw.registry, 'SyncHost', host('a', '1.0.0'), metadata);
  t.regex(response.head_hash, /^[0-9a-f]{64}$/);
  const page = await unaryCall(server.raw.history, 'ListHistory', { order: 'HISTORY_ORDER_OLDEST_FIRST' });
  t.deepEqual(page.entries.map((e: any) => [e.resource, e.index, e.actor, e.reason]), [
    ['hosts/a', 0, 'agent-7', 'driver upgrade'],
    ['hosts/a/devices/gpu0', 1, 'agent-7', 'driver upgrade'],
    ['hosts/a/devices/gpu1', 2, 'agent-7', 'driver upgrade'],
  ]);
  t.is(page.entries.at(-1).hash, response.head_hash, 'the head is the hash of the last entry');
  const verified = await server.verify(response.head_hash);
  t.like(verified, { intact: true, problem: 'CHAIN_PROBLEM_UNSPECIFIED', entries_checked: '3', head_hash: response.head_hash, head_revision: '1' });

  const badReason = new grpc.Metadata();
  badReason.set('x-devcompat-reason', 'x'.repeat(2000));
  const refused = await t.throwsAsync(unaryCall(server.raw.registry, 'SyncHost', host('b', '1.0.0'), badReason));
  t.is((refused as any).code, grpc.status.INVALID_ARGUMENT);
  t.deepEqual((refused as any).fieldViolations.map((v: any) => v.field), ['x-devcompat-reason']);
  // The server refuses it as the client library would have (the same check, the same words).
  t.is((refused as any).message, 'x-devcompat-reason: must be printable ASCII and at most 1024 characters');
});

test('an entry edited in the file behind the server is caught as ALTERED, at that entry', async (t) => {
  const server = await start(t);
  await seed(server.client);
  // Three creations of 3 entries (host and two devices), then seven updates of 2 devices.
  t.like(await server.verify(), { intact: true, entries_checked: '23' });
  t.is(editHistory(server.dbPath, "UPDATE history_entries SET actor = 'mallory' WHERE revision = 4 AND seq = 1"), 1);
  const result = await server.verify();
  t.like(result, { intact: false, problem: 'CHAIN_PROBLEM_ALTERED', revision: '4', index: 1 });
  t.regex(result.description, /hosts\/h0\/devices\/gpu1.*altered/);
});

test('a removed entry and a reordered pair are caught where the chain breaks', async (t) => {
  const server = await start(t);
  await seed(server.client);
  t.is(editHistory(server.dbPath, 'DELETE FROM history_entries WHERE revision = 6 AND seq = 0'), 1);
  t.like(await server.verify(), { intact: false, problem: 'CHAIN_PROBLEM_REMOVED_OR_REORDERED', revision: '6', index: 1 });

  const other = await start(t);
  await seed(other.client);
  // Swap two entries of revision 3 (their contents and hashes, each keeping the index of the
  // place it moves to): each entry is self-consistent, but the order no longer chains.
  const swapped = tamper(
    t,
    other.dbPath,
    `UPDATE history SET
       entries = json_replace(entries, '$[1]', json_replace(entries -> '$[2]', '$[0]', 1), '$[2]', json_replace(entries -> '$[1]', '$[0]', 2)),
       links = unhex(hex(substr(links, 1, 64)) || hex(substr(links, 129, 64)) || hex(substr(links, 65, 64)) || hex(substr(links, 193)))
     WHERE revision = 3`,
  );
  t.is(swapped, 1);
  t.like(await other.verify(), { intact: false, problem: 'CHAIN_PROBLEM_REMOVED_OR_REORDERED', revision: '3', index: 1 });
});

test('a truncated tail is caught by the running server, and by an expected head after a restart', async (t) => {
  const server = await start(t);
  const head = await seed(server.client);
  tamper(t, server.dbPath, 'DELETE FROM history WHERE revision = 10');
  tamper(t, server.dbPath, 'DELETE FROM revisions WHERE revision = 10');
  const live = await server.verify();
  t.like(live, { intact: false, problem: 'CHAIN_PROBLEM_HEAD_MISMATCH', head_revision: '9' });

  // A restart is refused: the head anchor beside the file remembers revision 10.
  await server.server.close();
  const refused = await t.throwsAsync(start(t, { dbPath: server.dbPath, dir: server.dir }));
  t.regex(refused!.message, /is at revision 9, behind its head anchor at revision 10.*--accept-restore/);
  // Accepted as a restore, the server starts; the head kept outside still proves the loss.
  const again = await start(t, { dbPath: server.dbPath, dir: server.dir, acceptRestore: true });
  t.like(await again.verify(), { intact: true }, 'on its own the shortened chain is consistent');
  const anchored = await again.verify(head);
  t.like(anchored, { intact: false, problem: 'CHAIN_PROBLEM_HEAD_NOT_FOUND' });
  t.regex(anchored.description, new RegExp(head));
});

test('a chain rewritten with fresh hashes is consistent, but the expected head is gone', async (t) => {
  const server = await start(t);
  const head = await seed(server.client);
  await server.server.close();
  // The attacker changes an entry and recomputes every hash after it.
  const db = openDatabase(server.dbPath);
  editableHistory(db);
  db.prepare("UPDATE history_entries SET actor = 'mallory' WHERE revision = 2 AND seq = 0").run();
  let prev = '0'.repeat(64);
  for (const row of db.prepare('SELECT * FROM history_entries ORDER BY revision, seq').all() as any[]) {
    const hash = chainHash(prev, chainedColumns(row));
    db.prepare('UPDATE history_entries SET prev_hash = unhex(?), hash = unhex(?) WHERE revision = ? AND seq = ?').run(prev, hash, row.revision, row.seq);
    prev = hash;
  }
  db.close();
  // The anchored head is no longer on the file's chain: the start is refused...
  const refused = await t.throwsAsync(start(t, { dbPath: server.dbPath, dir: server.dir }));
  t.regex(refused!.message, /not in the anchored head.*deleted or rewritten/);
  // ...until the operator accepts the file as a restore; the expected head still proves the rewrite.
  const rewritten = await start(t, { dbPath: server.dbPath, dir: server.dir, acceptRestore: true });
  t.like(await rewritten.verify(), { intact: true });
  t.like(await rewritten.verify(head), { intact: false, problem: 'CHAIN_PROBLEM_HEAD_NOT_FOUND' });
  const bad = await t.throwsAsync(rewritten.verify('not-a-hash'));
  t.is((bad as any).code, grpc.status.INVALID_ARGUMENT);
});

test('compaction keeps the chain verifiable from its checkpoint, and the head still proves it', async (t) => {
  const server = await start(t);
  const early = await seed(server.client, 6);
  const head = await seed(server.client, 6);
  const compacted = await unaryCall(server.raw.history, 'CompactHistory', { revision: 8 });
  // Revisions 1-3 created three hosts (3 entries each), 4-8 updated two devices each.
  t.like(compacted, { checkpoint_revision: '8', entries_removed: String(3 * 3 + 5 * 2) });
  t.is(compacted.oldest_revision, '9');
  const verified = await server.verify(head);
  t.like(verified, { intact: true, checkpoint_revision: '8', checkpoint_hash: compacted.checkpoint_hash, head_hash: head });
  t.like(await server.verify(early), { intact: false, problem: 'CHAIN_PROBLEM_HEAD_NOT_FOUND' }, 'a head before the cut cannot be proven');
  const page = await unaryCall(server.raw.history, 'ListHistory', { order: 'HISTORY_ORDER_OLDEST_FIRST', page_size: 1 });
  t.is(page.entries[0].revision, '9');

  await server.server.close();
  const after = await start(t, { dbPath: server.dbPath, dir: server.dir });
  t.like(await after.verify(head), { intact: true, checkpoint_revision: '8' }, 'the checkpoint survives a restart');
  await after.server.close();
  tamper(t, server.dbPath, 'UPDATE history_checkpoints SET hash = zeroblob(32)');
  // The start-up check walks the newest entries down to the checkpoint and refuses the file...
  const refused = await t.throwsAsync(start(t, { dbPath: server.dbPath, dir: server.dir }));
  t.regex(refused!.message, /is corrupt: REMOVED_OR_REORDERED at revision 9 index 0/);
  // ...and with the check off, a full verification reports the same break.
  const restarted = await start(t, { dbPath: server.dbPath, dir: server.dir, startupChainCheck: 0 });
  t.like(await restarted.verify(), { intact: false, problem: 'CHAIN_PROBLEM_REMOVED_OR_REORDERED', revision: '9', index: 0 });
});

test('compacting past the current revision is refused; compacting twice to the same point changes nothing', async (t) => {
  const server = await start(t);
  await seed(server.client, 4);
  const refused = await t.throwsAsync(unaryCall(server.raw.history, 'CompactHistory', { revision: 5 }));
  t.is((refused as any).code, grpc.status.INVALID_ARGUMENT);
  t.deepEqual((refused as any).fieldViolations.map((v: any) => v.field), ['revision']);
  await unaryCall(server.raw.history, 'CompactHistory', { revision: 2 });
  const again = await unaryCall(server.raw.history, 'CompactHistory', { revision: 2 });
  t.is(again.entries_removed, '0');
  t.is(again.checkpoint_revision, '2');
});

test('a retention policy compacts at start-up: keep the last N revisions', async (t) => {
  const first = await start(t);
  await seed(first.client, 20);
  await first.server.close();
  const log = capturedLog();
  const retained = await start(t, { dbPath: first.dbPath, dir: first.dir, retention: { kind: 'revisions', keep: 5 }, logger: log.logger });
  // Compaction runs as the server starts; it logs when it is done.
  t.like(await log.waitFor('history compacted'), { checkpoint: { revision: 15 } });
  const page = await unaryCall(retained.raw.history, 'ListHistory', { order: 'HISTORY_ORDER_OLDEST_FIRST', page_size: 1 });
  t.is(page.entries[0].revision, '16', 'revisions 16..20 are kept');
  t.like(await retained.verify(), { intact: true, checkpoint_revision: '15' });
});

test('history written before the chain existed (schema 0001) is chained when the store opens', (t) => {
  const dir = tempDir(t);
  const dbPath = path.join(dir, 'old.db');
  // A database as the previous release left it: only the first migration, with history.
  const db = openDatabase(dbPath);
  const [first] = readMigrations();
  db.exec(first.sql);
  db.exec(`CREATE TABLE schema_migrations (version INTEGER NOT NULL CONSTRAINT schema_migrations_pk PRIMARY KEY,
    name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at_ms INTEGER NOT NULL) STRICT`);
  db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?, ?)').run(first.version, first.name, first.checksum, 1);
  db.exec(`INSERT INTO revisions VALUES (1, 1000, 'old-agent'), (2, 2000, 'old-agent');
    INSERT INTO hosts VALUES ('a', '{}', 2, 1, 1000, 2000, 2000);
    INSERT INTO history VALUES (1, 0, 1000, 'a', '', 'CREATED', 'old-agent', NULL, '{"h":{"l":{},"r":1,"cr":1,"ct":1000,"ut":1000,"st":1000}}');
    INSERT INTO history VALUES (2, 0, 2000, 'a', '', 'UPDATED', 'old-agent', '{"h":{"l":{},"r":1,"cr":1,"ct":1000,"ut":1000,"st":1000}}', '{"h":{"l":{"x":"y"},"r":2,"cr":1,"ct":1000,"ut":2000,"st":2000}}');`);
  db.close();

  const store = new SqliteStore({ path: dbPath, durability: 'full' });
  t.teardown(() => store.close());
  t.deepEqual(store.migrations.applied, [
    '0002_leases_and_audit_chain',
    '0003_identity_and_compaction_record',
    '0004_placement_claims',
    '0005_shared_budgets',
    '0006_head_anchor_registration',
    '0007_packed_history',
    '0008_claim_owners',
  ]);
  const state = store.load();
  t.is(state.hosts[0].reachable, true, 'old hosts are reachable');
  t.is(state.hosts[0].budgets, undefined, 'old hosts have no shared budgets');
  const walk = store.verifyChain({ after: undefined, prevHash: '0'.repeat(64), limit: 100, expectedHead: state.headHash });
  t.deepEqual(walk.broken, undefined);
  t.is(walk.checked, 2);
  t.true(walk.foundExpectedHead);
  const history = store.listHistory({
    hostId: undefined,
    deviceId: undefined,
    startRevision: undefined,
    endRevision: undefined,
    startTime: undefined,
    endTime: undefined,
    actor: undefined,
    newestFirst: true,
    after: undefined,
    limit: 10,
  });
  t.is(history[0].hash, state.headHash);
});
