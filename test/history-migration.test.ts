// Migration 0007 (history packed one row per revision) on a database at the layout before it:
// real history — written by the core (syncs creating, changing and removing devices, labels
// with quotes, backslashes and non-ASCII, shared budgets, a host deleted and created again,
// draining, a lapsed lease, claims, entries on someone's behalf) — stored as the 0006 layout
// held it, one row per entry with its hashes. After the migration the file holds the same
// entries with the same hashes (its history_entries view gives back the old rows exactly), its
// chain verifies and continues, and every history answer (listings, first changes, revision at a
// time, the chain walked whole and in pages, compaction) and every past view is what the same
// history gives on the in-memory store, the reference every store's contract is checked against;
// and each resource's history and first changes are what the 0006 layout's own queries (the
// store's before 0007) answered on the file before it was migrated.

import test from 'ava';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { validateCreateClaim } from '../server/core/claims.ts';
import { Registry } from '../server/core/registry.ts';
import { historyQuery, type HistoryQuery, type HistoryRecord, type RegistryStore } from '../server/core/store.ts';
import { GENESIS_HASH } from '../server/store/history-chain.ts';
import { chainEntries } from '../server/store/history-encoding.ts';
import { migrate, readMigrations } from '../server/store/migrate.ts';
import { openDatabase } from '../server/store/open-database.ts';
import { deviceToRow, historyFromRow, hostToRow, type HistoryRowBase } from '../server/store/rows.ts';
import { WorkerStore } from '../server/store/worker-store.ts';
import { openCore, syncOf, ANYONE } from './helpers/core.ts';
import { tempDir } from './helpers/server.ts';

const TTL = 60_000;
const AWKWARD = { quote: 'say "hi"', back: 'a\\b', utf: 'ключ é 🦀 \u2028 end' };

/** Real history from the core on the memory store; returns the rig (its store is the reference). */
async function writeHistory() {
  const rig = await openCore({ leaseTtlMs: TTL });
  const { registry, clock } = rig;
  const alice = { actor: 'alice', reason: 'rack 7 roll-out' };
  const onBehalf = { actor: 'agent:h2', reason: '', onBehalfOf: 'ops@bob' };
  await registry.syncHost(syncOf('h1', [{ id: 'gpu0', available: 4 }, { id: 'gpu1', available: 4 }], { zone: 'a' }), alice);
  await registry.syncHost(syncOf('h2', ['gpu0', 'gpu1', 'gpu2'], AWKWARD), onBehalf);
  await registry.syncHost(syncOf('h3', ['gpu0']), alice);
  clock.advance(1000);
  // Changes: capacity, a device gone and one new, host labels, shared budgets.
  await registry.syncHost(syncOf('h1', [{ id: 'gpu0', available: 3 }, { id: 'gpu1', available: 4 }], { zone: 'a' }), alice);
  await registry.syncHost(syncOf('h2', ['gpu0', 'gpu3'], { ...AWKWARD, extra: '1' }), onBehalf);
  await registry.syncHost(
    syncOf('h3', ['gpu0'], {}, [{ budget_id: 'fb', parent: '0000:3b:00.0', total: 8, available: 8, consumption: { gpu0: 2 } }]),
    alice,
  );
  clock.advance(1000);
  await registry.createClaim(validateCreateClaim({ parent: 'hosts/h1', claim_id: 'mig-1', devices: [{ device: 'gpu0' }], ttl_ms: 30_000 }), {
    actor: 'scheduler',
    reason: 'migrate vm1',
  }, ANYONE);
  await registry.setDraining('h3', true, { actor: 'ops', reason: 'maintenance' });
  await registry.deleteHost('h2', undefined, { actor: 'ops', reason: 'decommissioned' });
  clock.advance(1000);
  await registry.syncHost(syncOf('h2', ['gpu0']), alice);
  await registry.releaseClaim('h1', 'mig-1', alice, ANYONE);
  // A lapsed lease: the server's own entry, dated at the expiry.
  registry.startLeases();
  clock.advance(TTL + 1000);
  await registry.setDraining('h3', false, { actor: 'ops', reason: 'done' });
  return rig;
}

/** The database file as the 0006 layout left it, holding `entries` as the previous store wrote them. */
async function oldLayoutFile(file: string, reference: RegistryStore, entries: readonly HistoryRecord[]) {
  const db = openDatabase(file);
  try {
    db.exec('PRAGMA foreign_keys = ON');
    const applied = migrate(db, readMigrations().filter((m) => m.version <= 6));
    if (applied.version !== 6) throw new Error(`expected the layout of 0006, got ${applied.version}`);
    const state = await reference.load();
    const chained = chainEntries(GENESIS_HASH, entries.map(({ hash: _hash, ...entry }) => entry));
    db.transaction(() => {
      const revisions = new Map<number, HistoryRecord>();
      for (const entry of entries) revisions.set(entry.revision, entry);
      const insertRevision = db.prepare('INSERT INTO revisions (revision, time_ms, actor, reason) VALUES (?, ?, ?, ?)');
      for (const [revision, { time, actor, reason }] of revisions) insertRevision.run(revision, time, actor, reason);
      const insertDescriptor = db.prepare(
        'INSERT INTO descriptors (descriptor_id, descriptor_key, vendor, device_api, type, software_version) VALUES (?, ?, ?, ?, ?, ?)',
      );
      for (const { id, key } of state.descriptors) {
        const parsed = JSON.parse(key);
        insertDescriptor.run(id, key, parsed.vendor, parsed.device_api, parsed.type, parsed.software_version);
      }
      const insertHost = db.prepare(
        `INSERT INTO hosts (host_id, labels, revision, create_revision, create_time_ms, update_time_ms, last_sync_time_ms, reachable, draining, budgets, lease_expire_ms)
         VALUES (@host_id, @labels, @revision, @create_revision, @create_time_ms, @update_time_ms, @last_sync_time_ms, @reachable, @draining, @budgets, @lease)`,
      );
      for (const host of state.hosts) {
        const row = hostToRow(host);
        insertHost.run({ ...row, reachable: row.reachable ? 1 : 0, draining: row.draining ? 1 : 0, lease: state.leaseExpiries.get(host.hostId) ?? null });
      }
      const insertDevice = db.prepare(
        `INSERT INTO devices (host_id, device_id, descriptor_id, capacity_total, capacity_available, labels, revision, create_revision, create_time_ms, update_time_ms)
         VALUES (@host_id, @device_id, @descriptor_id, @capacity_total, @capacity_available, @labels, @revision, @create_revision, @create_time_ms, @update_time_ms)`,
      );
      for (const device of state.devices) insertDevice.run(deviceToRow(device));
      // The 0006 layout's history: one row per entry, as the store before 0007 inserted it.
      const insertEntry = db.prepare(
        `INSERT INTO history (revision, seq, time_ms, host_id, device_id, change, actor, reason, before, after, prev_hash, hash, on_behalf_of)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, unhex(?), unhex(?), ?)`,
      );
      for (const { columns: c, prev, hash } of chained.entries) {
        insertEntry.run(c.revision, c.seq, c.time, c.hostId, c.deviceId, c.change, c.actor, c.reason, c.before, c.after, prev, hash, c.onBehalfOf);
      }
    })();
    return {
      rows: db.prepare('SELECT * FROM history ORDER BY revision, seq').all() as Record<string, unknown>[],
      hashes: chained.entries.map((e) => e.hash),
      answers: oldLayoutAnswers(db, entries),
    };
  } finally {
    db.close();
  }
}

type OldRow = HistoryRowBase & { hash: Buffer };

/**
 * What the 0006 layout answered, by the queries the store ran on it before 0007 (3ac0d22's
 * sqlite-store.ts): each resource's history through history_by_resource, and the first changes
 * after every revision in its three forms (window queries over the entry rows).
 */
function oldLayoutAnswers(db: Database.Database, entries: readonly HistoryRecord[]) {
  const record = (row: OldRow) => historyFromRow(row, row.hash.toString('hex'));
  const resources = [...new Map(entries.map((e) => [`${e.hostId}/${e.deviceId}`, e])).values()];
  const ofResource = db.prepare('SELECT * FROM history WHERE host_id = ? AND device_id = ? ORDER BY revision, seq');
  const firstAll = db.prepare(
    `SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY host_id, device_id ORDER BY revision, seq) AS nth
       FROM history WHERE revision > ?) WHERE nth = 1 ORDER BY revision, seq`,
  );
  const firstOfHost = db.prepare(
    `SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY device_id ORDER BY revision, seq) AS nth
       FROM history WHERE host_id = ? AND revision > ?) WHERE nth = 1 ORDER BY revision, seq`,
  );
  const firstOfResource = db.prepare('SELECT * FROM history WHERE host_id = ? AND device_id = ? AND revision > ? ORDER BY revision, seq LIMIT 1');
  const strip = (row: OldRow & { nth?: number }) => {
    const { nth: _nth, ...rest } = row;
    return record(rest as OldRow);
  };
  const answers: HistoryRecord[][] = [];
  for (const e of resources) answers.push((ofResource.all(e.hostId, e.deviceId) as OldRow[]).map(record));
  for (let r = 0; r <= entries.at(-1)!.revision; r++) {
    answers.push((firstAll.all(r) as OldRow[]).map(strip));
    for (const hostId of new Set(entries.map((e) => e.hostId))) answers.push((firstOfHost.all(hostId, r) as OldRow[]).map(strip));
    for (const e of resources) answers.push((firstOfResource.all(e.hostId, e.deviceId, r) as OldRow[]).map(record));
  }
  return answers;
}

/** The same questions asked of a store. */
async function storeAnswers(store: RegistryStore, entries: readonly HistoryRecord[]) {
  const resources = [...new Map(entries.map((e) => [`${e.hostId}/${e.deviceId}`, e])).values()];
  const answers: HistoryRecord[][] = [];
  for (const e of resources) answers.push(await store.listHistory(historyQuery({ hostId: e.hostId, deviceId: e.deviceId, limit: 1000 })));
  for (let r = 0; r <= entries.at(-1)!.revision; r++) {
    answers.push(await store.firstChangesAfter({ revision: r }));
    for (const hostId of new Set(entries.map((e) => e.hostId))) answers.push(await store.firstChangesAfter({ revision: r, hostId }));
    for (const e of resources) answers.push(await store.firstChangesAfter({ revision: r, hostId: e.hostId, deviceId: e.deviceId }));
  }
  return answers;
}

/** Every history query shape the API can ask, over the hosts and resources the history has. */
function queries(entries: readonly HistoryRecord[]): HistoryQuery[] {
  const head = entries.at(-1)!.revision;
  const times = [...new Set(entries.map((e) => e.time))];
  const shapes: Partial<HistoryQuery>[] = [{}, { newestFirst: true }, { actor: 'alice' }, { actor: 'ops' }, { actor: 'nobody' }];
  for (const hostId of new Set(entries.map((e) => e.hostId))) {
    shapes.push({ hostId }, { hostId, newestFirst: true }, { hostId, deviceId: '' });
    for (const deviceId of new Set(entries.filter((e) => e.hostId === hostId).map((e) => e.deviceId))) shapes.push({ hostId, deviceId });
  }
  for (let r = 1; r <= head; r += 2) shapes.push({ startRevision: r }, { endRevision: r, newestFirst: true }, { startRevision: r, endRevision: r + 2 });
  for (const time of times) shapes.push({ startTime: time }, { endTime: time }, { startTime: time - 1, endTime: time + 1, newestFirst: true });
  for (const entry of entries) {
    const after = { revision: entry.revision, seq: entry.seq };
    shapes.push({ after, limit: 3 }, { after, newestFirst: true, limit: 3 }, { hostId: entry.hostId, after, limit: 2 });
  }
  return shapes.map((shape) => historyQuery({ limit: 1000, ...shape }));
}

async function answers(store: RegistryStore, entries: readonly HistoryRecord[]) {
  const head = entries.at(-1)!.revision;
  const listed = [];
  for (const query of queries(entries)) listed.push(await store.listHistory(query));
  const first = [];
  for (let r = 0; r <= head; r++) {
    first.push(await store.firstChangesAfter({ revision: r }));
    for (const hostId of new Set(entries.map((e) => e.hostId))) {
      first.push(await store.firstChangesAfter({ revision: r, hostId }));
      for (const deviceId of new Set(entries.filter((e) => e.hostId === hostId).map((e) => e.deviceId))) {
        first.push(await store.firstChangesAfter({ revision: r, hostId, deviceId }));
      }
    }
  }
  const at = [];
  for (const time of new Set(entries.flatMap((e) => [e.time - 1, e.time, e.time + 1]))) at.push(await store.revisionAt(time));
  // The chain walked whole, and three entries at a time.
  const loaded = await store.load();
  const whole = await store.verifyChain({ after: undefined, prevHash: GENESIS_HASH, limit: 10_000, expectedHead: loaded.headHash });
  const pages = [];
  let after: { revision: number; seq: number } | undefined;
  let prevHash = GENESIS_HASH;
  for (;;) {
    const page = await store.verifyChain({ after, prevHash, limit: 3, expectedHead: undefined });
    pages.push(page);
    if (!page.last || page.broken) break;
    after = { revision: page.last.revision, seq: page.last.seq };
    prevHash = page.last.hash;
  }
  return { listed, first, at, whole, pages, head: loaded.headHash, revision: loaded.revision };
}

/** Every host and device as a past view shows them (test/point-in-time-property.test.ts). */
async function pastViews(registry: Registry, head: number): Promise<string[][]> {
  const views: string[][] = [];
  for (let r = 1; r <= head; r++) {
    const view = await registry.viewAt(r);
    const lines: string[] = [];
    for (const host of view.hosts.values()) {
      lines.push(`host ${host.record.hostId} ${JSON.stringify(host.record.labels)} ${host.record.reachable} ${host.record.draining}`);
      for (const device of host.devices.values()) {
        const d = device.record;
        lines.push(`device ${d.hostId}/${d.deviceId} ${device.entry.descriptor.key} ${JSON.stringify(d.capacity)} ${JSON.stringify(d.labels)} ${d.revision}`);
      }
    }
    views.push(lines.sort());
  }
  return views;
}

/** A history row's columns in the 0006 table's order (the view has them in another). */
function oldColumns(row: Record<string, unknown>): unknown[] {
  return ['revision', 'seq', 'time_ms', 'host_id', 'device_id', 'change', 'actor', 'before', 'after', 'reason', 'prev_hash', 'hash', 'on_behalf_of'].map(
    (column) => row[column],
  );
}

function tableNames(db: Database.Database): string[] {
  return (db.prepare("SELECT type || ' ' || name AS name FROM sqlite_schema WHERE name LIKE 'history%' ORDER BY name").all() as { name: string }[]).map(
    (row) => row.name,
  );
}

test('0007 packs the 0006 history in place: the same entries and hashes, the same answers, the chain continues', async (t) => {
  const rig = await writeHistory();
  const reference = rig.store;
  const entries = await reference.listHistory(historyQuery({ limit: 10_000 }));
  t.true(entries.length >= 25, `${entries.length} entries`);
  t.true(entries.some((e) => e.onBehalfOf) && entries.some((e) => e.actor === 'devcompat') && entries.some((e) => e.deviceId.startsWith('claims/')));
  t.true(entries.some((e) => e.change === 'DELETED') && entries.some((e) => e.before?.kind === 'host' && e.before.host.budgets === undefined && e.after?.kind === 'host' && e.after.host.budgets));

  const file = path.join(tempDir(t), 'registry.db');
  const old = await oldLayoutFile(file, reference, entries);
  t.deepEqual(old.hashes, entries.map((e) => e.hash), 'the old rows carry the chain the reference store computed');
  const expected = await answers(reference, entries);
  t.is(expected.head, entries.at(-1)!.hash!);

  const store = await WorkerStore.open({ path: file, durability: 'relaxed' });
  t.teardown(() => store.close());
  t.deepEqual(store.migrations.applied, ['0007_packed_history', '0008_claim_owners']);
  // The file: the old table and its per-entry index are gone; the view gives back the old rows.
  const db = openDatabase(file, { readonly: true });
  t.deepEqual(tableNames(db), ['table history', 'table history_checkpoints', 'table history_hosts', 'view history_entries']);
  t.deepEqual(
    (db.prepare('SELECT * FROM history_entries ORDER BY revision, seq').all() as Record<string, unknown>[]).map(oldColumns),
    old.rows.map(oldColumns),
    'each entry kept every column and both hashes',
  );
  t.is((db.prepare('SELECT COUNT(*) AS n FROM history').get() as { n: number }).n, new Set(entries.map((e) => e.revision)).size, 'one row per revision');
  db.close();
  t.deepEqual(await answers(store, entries), expected, 'every history answer is the reference store\'s');
  t.deepEqual(await storeAnswers(store, entries), old.answers, 'per-resource history and first changes are what the 0006 layout answered');
  t.like((await answers(store, entries)).whole, { checked: entries.length, broken: undefined, foundExpectedHead: true });

  // The registry on the migrated file sees every past revision as the reference registry does.
  const migrated = await Registry.open(store, { clock: rig.clock, leaseTtlMs: TTL });
  t.teardown(() => migrated.close());
  const head = entries.at(-1)!.revision;
  t.deepEqual(await pastViews(migrated, head), await pastViews(rig.registry, head));

  // The chain continues from the migrated head, to the head the reference reaches with the same write.
  const next = syncOf('h1', [{ id: 'gpu0', available: 1 }, { id: 'gpu1', available: 4 }], { zone: 'b' });
  const written = await migrated.syncHost(next, { actor: 'alice', reason: 'after the migration' });
  const same = await rig.registry.syncHost(next, { actor: 'alice', reason: 'after the migration' });
  t.is(written.revision, same.revision);
  t.is(migrated.headHash, rig.registry.headHash);
  t.like(await migrated.verifyHistory(rig.registry.headHash), { intact: true });

  // Compaction removes the same entries and records the same checkpoint.
  const compacted = await migrated.compact(5, 'ops');
  const compactedReference = await rig.registry.compact(5, 'ops');
  t.like(compacted, { checkpoint: compactedReference.checkpoint, removed: compactedReference.removed });
  t.deepEqual(
    await store.listHistory(historyQuery({ limit: 10_000 })),
    await reference.listHistory(historyQuery({ limit: 10_000 })),
  );
});
