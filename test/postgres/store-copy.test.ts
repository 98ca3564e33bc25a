// `devcompat store copy <from> <to>` (issue 13): a registry copied from SQLite to PostgreSQL and
// back keeps its revision, its whole history and its chain: a server on the copy serves the
// same hosts and history with the same head, and its chain verifies. An unempty target is
// refused and left as it was. A compacted registry is copied from its checkpoint, with its
// compaction records, and verifies with the same head and the same oldest revision.

import test, { type ExecutionContext } from 'ava';
import path from 'node:path';
import { DevcompatClient, type SyncHostRequest } from '../../client/client.ts';
import { historyQuery, type StoreFactory } from '../../server/core/store.ts';
import { startServer, type RunningServer } from '../../server/server.ts';
import { postgresStore } from '../../server/store/postgres-store.ts';
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
