// SQLite's packed history (server/store/sqlite-history.ts, migration 0007), where its layout
// shows beyond the store contract: a revision's entries in one row, each host it touched in
// history_hosts. A packed row edited by hand into something that no longer reads as entries is
// ALTERED at its revision (and refused at start-up), not a crash of the walk; a revision with
// several hosts is found from each; compaction takes the hosts' rows with the history; and a
// revision number written again after its history was deleted by hand (then re-anchored) is
// stored and found. A compaction past an unreadable row removes it (it counts as one entry).

import test from 'ava';
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { CommitBatch, HistoryRecord, HostRecord } from '../server/core/store.ts';
import { historyQuery } from '../server/core/store.ts';
import { EMPTY_BATCH } from '../server/core/write-planning.ts';
import { GENESIS_HASH } from '../server/store/history-chain.ts';
import { SqliteStore } from '../server/store/sqlite-store.ts';
import { execSql, queryRow } from './helpers/db-file.ts';
import { tempDir } from './helpers/server.ts';

const T0 = 1_700_000_000_000;

function host(hostId: string, revision: number): HostRecord {
  const time = T0 + revision;
  return { hostId, labels: {}, revision, createRevision: revision, createTime: time, updateTime: time, lastSyncTime: time, reachable: true, draining: false };
}

/** Revision `revision` creates (or updates) each of `hostIds`: one host entry each, in one revision. */
function write(revision: number, hostIds: readonly string[]): CommitBatch {
  const hosts = hostIds.map((hostId) => host(hostId, revision));
  const history: HistoryRecord[] = hosts.map((record, seq) => ({
    revision,
    seq,
    time: T0 + revision,
    hostId: record.hostId,
    deviceId: '',
    change: 'CREATED',
    actor: 'alice',
    reason: '',
    before: undefined,
    after: { kind: 'host', host: record },
  }));
  return { ...EMPTY_BATCH, hostUpserts: hosts, history };
}

function walkAll(store: SqliteStore) {
  return store.verifyChain({ after: undefined, prevHash: GENESIS_HASH, limit: 1000, expectedHead: undefined });
}

test('a packed row that no longer reads as entries is ALTERED at its revision, and refused at start-up', (t) => {
  const file = path.join(tempDir(t), 'registry.db');
  const store = new SqliteStore({ path: file, durability: 'relaxed' });
  for (let r = 1; r <= 3; r++) store.commit(write(r, [`h${r}`]));
  store.close();
  execSql(file, "UPDATE history SET entries = '[[0, \"truncated' WHERE revision = 2");

  const refused = t.throws(() => new SqliteStore({ path: file, durability: 'relaxed' }));
  t.regex(refused!.message, /is corrupt: ALTERED at revision 2 index 0/);
  const inspected = new SqliteStore({ path: file, durability: 'relaxed', startupChainCheck: 0 });
  t.teardown(() => inspected.close());
  t.like(walkAll(inspected), { checked: 2, broken: { revision: 2, seq: 0, problem: 'ALTERED' } });
});

test('compaction past a packed row that no longer reads as entries removes it instead of failing', (t) => {
  const file = path.join(tempDir(t), 'registry.db');
  const store = new SqliteStore({ path: file, durability: 'relaxed' });
  for (let r = 1; r <= 4; r++) store.commit(write(r, r === 2 ? ['a', 'b'] : [`h${r}`]));
  store.close();
  execSql(file, "UPDATE history SET entries = '[[0, \"truncated' WHERE revision = 2");
  const inspected = new SqliteStore({ path: file, durability: 'relaxed', startupChainCheck: 0 });
  t.teardown(() => inspected.close());
  const compacted = inspected.compact({ revision: 3, time: T0 + 10, actor: 'ops' });
  // Revisions 1 and 3 hold one entry each; the unreadable row counts as the one entry the walk reads it as.
  t.is(compacted.removed, 3);
  t.is(queryRow<{ n: number }>(file, 'SELECT COUNT(*) AS n FROM history WHERE revision <= 3').n, 0);
  t.deepEqual(inspected.listHistory(historyQuery({ limit: 100 })).map((e) => e.revision), [4]);
});

test('reads page past 64 rows: listings both ways, a host\'s, first changes, the chain walk and the newest entries see every row once', (t) => {
  const file = path.join(tempDir(t), 'registry.db');
  const store = new SqliteStore({ path: file, durability: 'relaxed' });
  const N = 200;
  for (let r = 1; r <= N; r++) store.commit(write(r, [r % 2 === 1 ? 'a' : 'b']));
  const revisions = (entries: readonly HistoryRecord[]) => entries.map((e) => e.revision);
  const all = Array.from({ length: N }, (_, i) => i + 1);
  t.deepEqual(revisions(store.listHistory(historyQuery({ limit: 1000 }))), all);
  t.deepEqual(revisions(store.listHistory(historyQuery({ limit: 1000, newestFirst: true }))), [...all].reverse());
  t.deepEqual(revisions(store.listHistory(historyQuery({ hostId: 'a', limit: 1000 }))), all.filter((r) => r % 2 === 1));
  t.deepEqual(revisions(store.listHistory(historyQuery({ hostId: 'b', limit: 1000, newestFirst: true }))), all.filter((r) => r % 2 === 0).reverse());
  // A page that starts past the first 64 rows, from its cursor.
  const page = store.listHistory(historyQuery({ limit: 70, after: { revision: 100, seq: 0 } }));
  t.deepEqual(revisions(page), all.slice(100, 170));
  t.deepEqual(
    store.firstChangesAfter({ revision: 150 }).map((e) => `${e.hostId}@${e.revision}`),
    ['a@151', 'b@152'],
  );
  t.deepEqual(revisions(store.firstChangesAfter({ revision: 3, hostId: 'b' })), [4]);
  t.like(walkAll(store), { checked: N, broken: undefined });
  const walked = store.verifyChain({ after: { revision: 130, seq: 0 }, prevHash: store.listHistory(historyQuery({ limit: 1, after: { revision: 129, seq: 0 } }))[0].hash!, limit: 1000, expectedHead: undefined });
  t.like(walked, { checked: N - 130, broken: undefined });
  store.close();
  // The start-up check walks the newest entries, newest row first, across pages: a row skipped
  // or read twice at a page's edge would break the links it checks, and the store would refuse to open.
  const reopened = new SqliteStore({ path: file, durability: 'relaxed', startupChainCheck: 150 });
  reopened.close();
  t.pass();
});

test('a revision with several hosts is found from each; compaction removes the hosts\' rows with it', (t) => {
  const file = path.join(tempDir(t), 'registry.db');
  const store = new SqliteStore({ path: file, durability: 'relaxed' });
  t.teardown(() => store.close());
  store.commit(write(1, ['a', 'b', 'c']));
  store.commit(write(2, ['b']));
  store.commit(write(3, ['c', 'a']));
  const revisionsOf = (hostId: string) => store.listHistory(historyQuery({ hostId, limit: 100 })).map((e) => `${e.revision}/${e.seq}`);
  t.deepEqual(revisionsOf('a'), ['1/0', '3/1']);
  t.deepEqual(revisionsOf('b'), ['1/1', '2/0']);
  t.deepEqual(revisionsOf('c'), ['1/2', '3/0']);
  t.deepEqual(
    store.firstChangesAfter({ revision: 1 }).map((e) => `${e.revision}/${e.seq} ${e.hostId}`),
    ['2/0 b', '3/0 c', '3/1 a'],
  );
  const count = (sql: string) => queryRow<{ n: number }>(file, sql).n;
  t.is(count('SELECT COUNT(*) AS n FROM history'), 3, 'one row per revision');
  t.is(count('SELECT COUNT(*) AS n FROM history_hosts'), 6, 'one row per host of each revision');

  const compacted = store.compact({ revision: 2, time: T0 + 10, actor: 'ops' });
  t.is(compacted.removed, 4, 'the entries of revisions 1 and 2');
  t.is(count('SELECT COUNT(*) AS n FROM history_hosts WHERE revision <= 2'), 0);
  t.deepEqual(revisionsOf('b'), []);
  t.deepEqual(revisionsOf('a'), ['3/1']);
  t.like(store.verifyChain({ after: undefined, prevHash: compacted.checkpoint.hash, limit: 100, expectedHead: undefined }), { checked: 2, broken: undefined });
});

test('a revision number written again after its history was deleted by hand is stored and found', (t) => {
  const file = path.join(tempDir(t), 'registry.db');
  const first = new SqliteStore({ path: file, durability: 'relaxed' });
  for (let r = 1; r <= 3; r++) first.commit(write(r, [`h${r}`]));
  first.close();
  // The tail deleted with its revisions (history_hosts left as it was), and the anchor that
  // remembers it; the operator re-anchors.
  execSql(file, 'DELETE FROM history WHERE revision > 1; DELETE FROM revisions WHERE revision > 1');
  rmSync(`${file}.head`);
  const again = new SqliteStore({ path: file, durability: 'relaxed', reanchor: 'test: tail deleted by hand' });
  t.teardown(() => again.close());
  const at = again.load().revision + 1;
  t.is(at, 3, 'revision 2 records the re-anchoring');
  again.commit(write(at, ['h3', 'other']));
  t.deepEqual(again.listHistory(historyQuery({ hostId: 'other', limit: 10 })).map((e) => e.revision), [3]);
  t.deepEqual(again.listHistory(historyQuery({ hostId: 'h3', limit: 10 })).map((e) => e.revision), [3]);
  t.deepEqual(again.listHistory(historyQuery({ hostId: 'h2', limit: 10 })), [], 'the deleted revision 2 is not found');
  t.like(walkAll(again), { checked: 3, broken: undefined });
});
