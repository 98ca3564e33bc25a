// `devcompat store copy <from> <to>` (issue 13): a registry copied from SQLite to PostgreSQL and
// back keeps its revision, its whole history and its chain: a server on the copy serves the
// same hosts and history with the same head, and its chain verifies. An unempty target is
// refused and left as it was. A compacted registry is copied from its checkpoint, with its
// compaction records, and verifies with the same head and the same oldest revision. Revisions
// without history (re-anchorings' records) are copied, and the head row follows them. The
// final check walks the copy's chain a page at a time and still finds a break in a later page;
// a copy that failed it leaves the database marked, so no server serves it.

import test, { type ExecutionContext } from 'ava';
import { rmSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { DevcompatClient, type SyncHostRequest } from '../../client/client.ts';
import { historyQuery, type ChainWalkQuery, type StoreFactory } from '../../server/core/store.ts';
import { startServer, type RunningServer } from '../../server/server.ts';
import { openDatabase } from '../../server/store/open-database.ts';
import { PostgresStore, postgresStore } from '../../server/store/postgres-store.ts';
import { CHAIN_PAGE, copyStore } from '../../server/store/store-copy.ts';
import { CLI, run } from '../helpers/cli.ts';
import { testDatabase } from '../helpers/postgres.ts';
import { tempDir } from '../helpers/server.ts';

const gpu = (version: string) => ({ vendor: 'nvidia', device_api: 'vfio-pci', type: 'a10', software_version: version });

async function snapshot(server: RunningServer) {
  const registry = server.registry;
  const history = (await registry.listHistory(historyQuery({ limit: 10_000 }))).map((entry) => JSON.stringify(entry));
  const hosts = registry.listHosts({ labels: {}, afterHostId: undefined, limit: 1000 }).map((host) => JSON.stringify([host.record, [...host.devices.values()].map((d) => d.record)]));
  // Budgets hold a Map (consumption), which JSON.stringify of the record leaves empty: listed apart.
  const budgets = registry.findHost('budgeted')?.record.budgets?.map((budget) => ({ ...budget, consumption: [...budget.consumption] }));
  return { revision: registry.revision, head: registry.headHash, history, hosts, budgets, verified: await registry.verifyHistory(undefined) };
}

/** `devcompat store copy from to`, as a user runs it; it must succeed. */
async function copyWithCli(t: ExecutionContext, from: string, to: string) {
  const copied = await run(process.execPath, [CLI, 'store', 'copy', from, to], { timeoutMs: 120_000 });
  t.is(copied.code, 0, copied.stderr);
  return copied;
}

/** A snapshot of the registry a server on `store` (PostgreSQL) or `dbPath` (SQLite) serves, and its oldest revision. */
async function servedSnapshot(options: { store?: StoreFactory; dbPath: string }) {
  const server = await startServer({ address: '127.0.0.1:0', leaseTtlMs: 3_600_000, ...options });
  try {
    return { ...(await snapshot(server)), oldest: server.registry.oldestRevision };
  } finally {
    await server.close();
  }
}

test('store copy: SQLite to PostgreSQL and back, with the same revision, history, state and chain head; a non-empty target is refused', async (t) => {
  const dir = tempDir(t);
  const sqlitePath = path.join(dir, 'source.db');
  const source = await startServer({ address: '127.0.0.1:0', dbPath: sqlitePath, leaseTtlMs: 3_600_000 });
  const client = new DevcompatClient({ address: source.address, actor: 'alice', reason: 'copy test' });
  for (let i = 0; i < 12; i++) {
    await client.syncHost({
      name: `h${i % 4}`,
      labels: { rack: `r${i % 2}` },
      devices: [{ device_id: 'gpu0', descriptor: gpu(`1.${i}.0`), labels: { slot: String(i) } }],
    } as SyncHostRequest);
  }
  // A host with a shared budget (SQLite migration 0005, PostgreSQL 0002): copied with the host.
  await client.syncHost({
    name: 'budgeted',
    devices: [{ device_id: 'gpu0', descriptor: gpu('1.0.0'), capacity: { total: 4, available: 4 } }],
    budgets: [{ budget_id: 'p/mem', parent: 'p', total: 1024, available: 512, consumption: { gpu0: 128 } }],
  } as SyncHostRequest);
  await client.setHostDraining('hosts/h1', true);
  await client.deleteHost('hosts/h3');
  client.close();
  const before = await snapshot(source);
  await source.close();
  t.deepEqual(before.budgets, [{ budgetId: 'p/mem', parent: 'p', total: 1024, available: 512, consumption: [['gpu0', 128]] }]);

  const url = await testDatabase(t);
  const copied = await run(process.execPath, [CLI, 'store', 'copy', `sqlite:${sqlitePath}`, url], { timeoutMs: 120_000 });
  t.is(copied.code, 0, copied.stderr);
  t.regex(copied.stdout, new RegExp(`copied revision ${before.revision} .*head ${before.head}`));

  const onPostgres = await startServer({ address: '127.0.0.1:0', dbPath: 'unused', store: postgresStore({ url }), leaseTtlMs: 3_600_000 });
  const there = await snapshot(onPostgres);
  await onPostgres.close();
  t.is(there.revision, before.revision);
  t.is(there.head, before.head);
  t.deepEqual(there.history, before.history);
  t.deepEqual(there.hosts, before.hosts);
  t.deepEqual(there.budgets, before.budgets, 'the shared budget, on PostgreSQL');
  t.true(there.verified.intact);

  // And back into a fresh SQLite file.
  const backPath = path.join(dir, 'back.db');
  const back = await run(process.execPath, [CLI, 'store', 'copy', url, `sqlite:${backPath}`], { timeoutMs: 120_000 });
  t.is(back.code, 0, back.stderr);
  const onSqlite = await startServer({ address: '127.0.0.1:0', dbPath: backPath, leaseTtlMs: 3_600_000 });
  const again = await snapshot(onSqlite);
  await onSqlite.close();
  t.deepEqual({ ...again, verified: again.verified.intact }, { ...before, verified: before.verified.intact });

  // The target must be empty: copying onto the copy is refused and changes nothing.
  const refused = await run(process.execPath, [CLI, 'store', 'copy', `sqlite:${sqlitePath}`, url], { timeoutMs: 120_000 });
  t.not(refused.code, 0);
  t.regex(refused.stderr, /is not empty/);
});

test('store copy of a compacted registry: the checkpoint and compaction records are copied first, and the copy verifies with the same head, both ways', async (t) => {
  const dir = tempDir(t);
  const sqlitePath = path.join(dir, 'compacted.db');
  const source = await startServer({ address: '127.0.0.1:0', dbPath: sqlitePath, leaseTtlMs: 3_600_000 });
  const client = new DevcompatClient({ address: source.address, actor: 'alice', reason: 'copy test' });
  for (let i = 0; i < 10; i++) {
    await client.syncHost({ name: `h${i % 3}`, devices: [{ device_id: 'gpu0', descriptor: gpu(`2.${i}.0`) }] } as SyncHostRequest);
  }
  await client.compactHistory('3');
  await client.compactHistory('6');
  client.close();
  const before = await snapshot(source);
  await source.close();
  t.is(before.verified.checkpoint.revision, 6);
  t.deepEqual(before.verified.compactions.map((record) => record.checkpoint.revision), [3, 6]);
  t.is(before.history.length, 4, 'history after the checkpoint: revisions 7 to 10');

  const url = await testDatabase(t);
  const copied = await copyWithCli(t, `sqlite:${sqlitePath}`, url);
  t.regex(copied.stdout, new RegExp(`copied revision ${before.revision} .*head ${before.head}`));
  const there = await servedSnapshot({ dbPath: 'unused', store: postgresStore({ url }) });
  t.deepEqual(there, { ...before, oldest: 7 }, 'same revision, head, history, state, checkpoint, compaction records and oldest revision on PostgreSQL');
  t.true(there.verified.intact);

  const backPath = path.join(dir, 'back.db');
  await copyWithCli(t, url, `sqlite:${backPath}`);
  t.deepEqual(await servedSnapshot({ dbPath: backPath }), { ...before, oldest: 7 }, 'and the same back on SQLite');
});

/** Every revisions row of a SQLite file, or of a PostgreSQL database, in the same shape. */
async function revisionsOf(store: { dbPath: string } | { url: string }) {
  const sql = 'SELECT revision, time_ms, actor, reason FROM revisions ORDER BY revision';
  if ('dbPath' in store) {
    const db = openDatabase(store.dbPath, { readonly: true });
    try {
      return db.prepare(sql).all();
    } finally {
      db.close();
    }
  }
  // BIGINT arrives as text from pg: as numbers, as SQLite gives them.
  return query(store.url, 'SELECT revision::float8 AS revision, time_ms::float8 AS time_ms, actor, reason FROM revisions ORDER BY revision');
}

async function query(url: string, sql: string) {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

/** Starts a SQLite server on `dbPath`, makes the syncs, stops it; its revision and head. */
async function writeSqlite(dbPath: string, syncs: SyncHostRequest[], options: { reanchor?: string } = {}) {
  const server = await startServer({ address: '127.0.0.1:0', dbPath, leaseTtlMs: 3_600_000, ...options });
  const client = new DevcompatClient({ address: server.address, actor: 'alice', reason: 'copy test' });
  try {
    for (const sync of syncs) await client.syncHost(sync);
    return { revision: server.registry.revision, head: server.registry.headHash };
  } finally {
    client.close();
    await server.close();
  }
}

const syncOf = (name: string, version: string, devices = 1) =>
  ({ name, devices: Array.from({ length: devices }, (_, i) => ({ device_id: `gpu${i}`, descriptor: gpu(version) })) }) as SyncHostRequest;

test('store copy: revisions without history (re-anchorings\' records, one between, one newest) are copied to PostgreSQL and back, and the head row follows them', async (t) => {
  const dir = tempDir(t);
  const sqlitePath = path.join(dir, 'source.db');
  await writeSqlite(sqlitePath, [syncOf('a', '1.0.0'), syncOf('b', '1.0.0'), syncOf('a', '1.1.0')]);
  rmSync(`${sqlitePath}.head`);
  await writeSqlite(sqlitePath, [syncOf('b', '1.1.0'), syncOf('c', '1.0.0')], { reanchor: 'INC-1: anchor lost' });
  rmSync(`${sqlitePath}.head`);
  const before = await writeSqlite(sqlitePath, [], { reanchor: 'INC-2: anchor lost again' });
  t.is(before.revision, 7, 'revisions 4 and 7 are re-anchorings, without history');
  const source = await revisionsOf({ dbPath: sqlitePath });
  t.deepEqual(
    source.filter((row: any) => row.actor === 'devcompat').map((row: any) => row.revision),
    [4, 7],
  );

  const url = await testDatabase(t);
  const copied = await copyWithCli(t, `sqlite:${sqlitePath}`, url);
  t.regex(copied.stdout, new RegExp(`copied revision 7 .*head ${before.head}`));
  t.deepEqual(await revisionsOf({ url }), source, 'every revisions row, with its time, actor and reason');
  const onPostgres = await startServer({ address: '127.0.0.1:0', dbPath: 'unused', store: postgresStore({ url }), leaseTtlMs: 3_600_000 });
  try {
    t.is(onPostgres.registry.revision, 7);
    t.is(onPostgres.registry.headHash, before.head);
    t.true((await onPostgres.registry.verifyHistory(undefined)).intact);
    const client = new DevcompatClient({ address: onPostgres.address });
    t.is((await client.syncHost(syncOf('d', '1.0.0'))).revision, '8', 'the next write follows the newest record');
    client.close();
  } finally {
    await onPostgres.close();
  }

  const backPath = path.join(dir, 'back.db');
  await copyWithCli(t, url, `sqlite:${backPath}`);
  t.deepEqual(await revisionsOf({ dbPath: backPath }), await revisionsOf({ url }), 'and back to SQLite');
});

test.serial('store copy into PostgreSQL: the final check walks the chain a page at a time, finds a break in a later page, and a failed copy is marked so that no server serves it', async (t) => {
  const dir = tempDir(t);
  const sqlitePath = path.join(dir, 'large.db');
  // 100 hosts of 60 devices: 6,100 history entries, more than one page of the walk.
  const { revision, head } = await writeSqlite(sqlitePath, Array.from({ length: 100 }, (_, i) => syncOf(`h${i}`, '1.0.0', 60)));

  const walks: ChainWalkQuery[] = [];
  let beforeWalk: ((store: PostgresStore) => Promise<void>) | undefined;
  const original = PostgresStore.prototype.verifyChain;
  PostgresStore.prototype.verifyChain = async function (this: PostgresStore, query: ChainWalkQuery) {
    walks.push(query);
    if (walks.length === 1) await beforeWalk?.(this);
    return original.call(this, query);
  };
  t.teardown(() => {
    PostgresStore.prototype.verifyChain = original;
  });

  const url = await testDatabase(t);
  const report = await copyStore(`sqlite:${sqlitePath}`, url);
  t.like(report, { revision, headHash: head, entries: 6_100 });
  t.deepEqual(walks.map((walk) => walk.limit), [CHAIN_PAGE, CHAIN_PAGE], 'two pages of 5,000, not one unpaged SELECT');
  t.is(walks[0].after, undefined);
  t.true((walks[1].after?.revision ?? 0) > 1, 'the second page starts after the first');

  // The copy's newest entry (in the walk's second page) altered before the check.
  walks.length = 0;
  const broken = await testDatabase(t);
  beforeWalk = async () => {
    await query(broken, "UPDATE history SET actor = 'mallory' WHERE (revision, seq) = (SELECT revision, seq FROM history ORDER BY revision DESC, seq DESC LIMIT 1)");
  };
  const failed = await t.throwsAsync(copyStore(`sqlite:${sqlitePath}`, broken));
  t.regex(failed!.message, new RegExp(`the copy's chain does not verify: ALTERED at revision ${revision}: .*left marked as an unfinished copy.*drop the database and create it again`));
  t.is(walks.length, 2, 'found in the second page');

  const refused = await t.throwsAsync(startServer({ address: '127.0.0.1:0', dbPath: 'unused', store: postgresStore({ url: broken }) }));
  t.regex(refused!.message, /the PostgreSQL database .* holds an unfinished `devcompat store copy` \(store copy from sqlite:.*large\.db, started .*\).*Refusing to use it/);
  const rerun = await run(process.execPath, [CLI, 'store', 'copy', `sqlite:${sqlitePath}`, broken], { timeoutMs: 120_000 });
  t.not(rerun.code, 0);
  t.regex(rerun.stderr, /holds an unfinished `devcompat store copy`.*drop the database and create it again, empty, then run devcompat store copy <from> postgres/);
});
