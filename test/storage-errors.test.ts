// When SQLite cannot store a write (the file locked by another process, the disk full, the
// database read-only) the writer gets UNAVAILABLE with the cause (docs/api.md: "database
// locked or full; retry"), nothing of the failed batch is stored or applied in memory, reads
// go on, and once the cause is gone the same write succeeds at the next revision with the
// history chain intact.

import test, { type ExecutionContext } from 'ava';
import { openDatabase } from '../server/store/open-database.ts';
import * as grpc from '@grpc/grpc-js';
import { validateSyncHost } from '../server/core/resources.ts';
import { nextStoreInProcess } from './helpers/in-process-store.ts';
import { startTestServer } from './helpers/server.ts';
import { rawClients, unaryCall } from './helpers/watch.ts';

const GPU = (version: string) => ({ vendor: 'nvidia', device_api: 'vfio-pci', type: 'nvidia-a10-4q', software_version: version });

/** A host with `devices` devices carrying labels: large enough to need new database pages. */
function host(name: string, devices: number, version = '1.0.0') {
  return {
    name,
    devices: Array.from({ length: devices }, (_, i) => ({
      device_id: `gpu${i}`,
      descriptor: GPU(version),
      labels: { rack: `r-${i}-${'x'.repeat(40)}` },
    })),
  };
}

async function start(t: ExecutionContext) {
  const server = await startTestServer(t);
  const raw = rawClients(server.server.address);
  t.teardown(() => raw.close());
  // Raw calls: the client library would retry UNAVAILABLE by itself.
  const sync = (request: object) => unaryCall(raw.registry, 'SyncHost', request);
  const revision = async () => (await unaryCall(raw.registry, 'ListHosts', {})).revision as string;
  const hostNames = async () => (await unaryCall(raw.registry, 'ListHosts', {})).hosts.map((h: any) => h.name);
  const historySize = async () => (await unaryCall(raw.history, 'ListHistory', { page_size: 1000 })).entries.length as number;
  const verify = () => unaryCall(raw.history, 'VerifyHistory', {});
  return { ...server, raw, sync, revision, hostNames, historySize, verify };
}

test('a database locked by another process: the write waits, then fails UNAVAILABLE; nothing is stored', async (t) => {
  const server = await start(t);
  await server.sync(host('a', 2));
  const entries = await server.historySize();

  // Another process holds the write lock with a transaction it does not finish.
  const other = openDatabase(server.dbPath);
  t.teardown(() => other.close());
  other.exec('BEGIN IMMEDIATE');
  other.prepare("INSERT INTO revisions (revision, time_ms, actor, reason) VALUES (1000, 1, 'other', '')").run();

  let settled = false;
  const write = server.sync(host('b', 2)).finally(() => (settled = true));
  const meanwhile = await server.client.getHost('hosts/a');
  t.is(meanwhile.device_count, 2, 'reads are served from memory while the write waits for the lock');
  t.false(settled, 'the write is still waiting for the lock');
  const error: any = await t.throwsAsync(write);
  t.is(error.code, grpc.status.UNAVAILABLE);
  t.regex(error.message, /locked/);

  other.exec('ROLLBACK');
  t.deepEqual(await server.hostNames(), ['hosts/a'], 'the failed write was not applied');
  t.is(await server.revision(), '1');
  t.is(await server.historySize(), entries);
  const retried = await server.sync(host('b', 2));
  t.is(retried.revision, '2', 'the failed batch used no revision');
  t.like(await server.verify(), { intact: true, entries_checked: String(entries + 3) });
});

test('a full disk: the write fails UNAVAILABLE, its whole batch is rejected and memory untouched', async (t) => {
  const store = nextStoreInProcess(t);
  const server = await start(t);
  const sqlite = await store;
  await server.sync(host('a', 2));
  const entries = await server.historySize();

  // The database may not grow past its current size: what SQLite reports when the disk is full.
  sqlite.pragma(`max_page_count = ${sqlite.pragma('page_count')}`);
  const error: any = await t.throwsAsync(server.sync(host('big', 300)));
  t.is(error.code, grpc.status.UNAVAILABLE);
  t.regex(error.message, /disk is full/);

  // Two writes queued in the same tick are one batch: one commit, failing for both.
  const registry = server.server.registry;
  const actor = { actor: 'test', reason: '' };
  const batch = [
    registry.syncHost(validateSyncHost(host('big', 300)), actor),
    registry.syncHost(validateSyncHost(host('a', 2, '2.0.0')), actor),
  ];
  const results = await Promise.allSettled(batch);
  t.deepEqual(
    results.map((result) => result.status === 'rejected' && (result.reason as { reason?: string }).reason),
    ['UNAVAILABLE', 'UNAVAILABLE'],
  );
  t.deepEqual(await server.hostNames(), ['hosts/a']);
  t.is((await server.client.getDevice('hosts/a/devices/gpu0')).descriptor.software_version, '1.0.0', 'the small write of the batch was not applied either');
  t.is(await server.revision(), '1');
  t.is(await server.historySize(), entries);

  sqlite.pragma('max_page_count = 1073741823');
  t.is((await server.sync(host('big', 300))).revision, '2');
  t.is((await server.sync(host('a', 2, '2.0.0'))).revision, '3');
  t.like(await server.verify(), { intact: true, entries_checked: String(entries + 301 + 2) });
  const restarted = await server.restart();
  t.is((await restarted.client.getHost('hosts/big')).device_count, 300, 'what was acknowledged after the failure is on disk');
});

test('a read-only database: the write fails UNAVAILABLE naming it, and succeeds once writable', async (t) => {
  const store = nextStoreInProcess(t);
  const server = await start(t);
  const sqlite = await store;
  await server.sync(host('a', 1));

  sqlite.pragma('query_only = ON');
  const error: any = await t.throwsAsync(server.sync(host('b', 1)));
  t.is(error.code, grpc.status.UNAVAILABLE);
  t.regex(error.message, /read-only/);
  t.deepEqual(await server.hostNames(), ['hosts/a']);
  t.is(await server.revision(), '1');

  sqlite.pragma('query_only = OFF');
  t.is((await server.sync(host('b', 1))).revision, '2');
  t.like(await server.verify(), { intact: true });
});
