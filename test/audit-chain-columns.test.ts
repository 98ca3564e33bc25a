// The history chain covers every stored column of an entry: each one, edited alone in the file
// behind a stopped server, is caught by VerifyHistory as ALTERED at that entry. And the hashes
// the server stores and serves are the ones the documented formula gives (docs/api.md, "Audit"),
// recomputed here from the stored entries (the history_entries view of the packed rows) without
// the implementation's hashing code, so a verifier written from the docs alone agrees with the
// server. Entries are edited through that view (test/helpers/history-edit.ts).

import test from 'ava';
import { openDatabase } from '../server/store/open-database.ts';
import { createHash } from 'node:crypto';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import type { SyncHostRequest } from '../client/client.ts';
import { editableHistory, editEntries } from './helpers/history-edit.ts';
import { startupRefusal, startTestServer } from './helpers/server.ts';
import { rawClients, unaryCall } from './helpers/watch.ts';

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

/**
 * The documented formula, written from docs/api.md: hex SHA-256 over the previous hash's 32
 * bytes followed by the UTF-8 of the compact JSON array [revision, index, time_ms, host id,
 * device id ('' for a host), change, actor, reason, before, after], the snapshots being their
 * stored JSON text (a JSON string) or null. The chain starts from 64 zeros.
 */
function documentedHash(prevHex: string, row: StoredRow): string {
  const columns = [row.revision, row.seq, row.time_ms, row.host_id, row.device_id, row.change, row.actor, row.reason, row.before, row.after];
  return createHash('sha256')
    .update(Buffer.concat([Buffer.from(prevHex, 'hex'), Buffer.from(JSON.stringify(columns), 'utf8')]))
    .digest('hex');
}

interface StoredRow {
  revision: number;
  seq: number;
  time_ms: number;
  host_id: string;
  device_id: string;
  change: string;
  actor: string;
  reason: string;
  before: string | null;
  after: string | null;
  prev_hash: string;
  hash: string;
}

function storedRows(dbPath: string): StoredRow[] {
  const db = openDatabase(dbPath, { readonly: true });
  try {
    return db
      .prepare(
        `SELECT revision, seq, time_ms, host_id, device_id, change, actor, reason, before, after,
                lower(hex(prev_hash)) AS prev_hash, lower(hex(hash)) AS hash
         FROM history_entries ORDER BY revision, seq`,
      )
      .all() as StoredRow[];
  } finally {
    db.close();
  }
}

/** Ten syncs over three hosts with an actor and a reason: 23 entries, the first 9 creations. */
async function seededFile(t: Parameters<typeof startTestServer>[0]) {
  const server = await startTestServer(t, { client: { actor: 'agent-7', reason: 'nightly driver roll-out' } });
  let head = '';
  for (let i = 0; i < 10; i++) head = (await server.client.syncHost(host(`h${i % 3}`, `1.${i}.0`))).head_hash;
  return { server, head };
}

async function verifyFile(t: Parameters<typeof startTestServer>[0], dbPath: string, dir: string) {
  // The start-up check would refuse a tampered file before VerifyHistory could be asked
  // (test/startup-durability.test.ts): it is off here, so the verifier itself is what is tested,
  // and the refusal is asserted on the same file first.
  const refused = await startupRefusal(t, dbPath, dir);
  const running = await startTestServer(t, { dbPath, dir, startupChainCheck: 0 });
  const verdict = await verifyWith(running);
  if (verdict.intact === false && !refused) throw new Error('the start-up check let a tampered file start');
  if (verdict.intact === true && refused) throw new Error(`an intact file was refused at start-up: ${refused.message}`);
  return verdict;
}

async function verifyWith(running: Awaited<ReturnType<typeof startTestServer>>) {
  const raw = rawClients(running.server.address);
  try {
    return await unaryCall(raw.history, 'VerifyHistory', { expected_head: '' });
  } finally {
    raw.close();
    await running.server.close();
  }
}

test('stored and served hashes are the documented formula, recomputed independently', async (t) => {
  const { server, head } = await seededFile(t);
  const raw = rawClients(server.server.address);
  t.teardown(() => raw.close());
  const served = await unaryCall(raw.history, 'ListHistory', { order: 'HISTORY_ORDER_OLDEST_FIRST', page_size: 100 });
  await server.server.close();

  const rows = storedRows(server.dbPath);
  t.is(rows.length, 23);
  t.true(rows.every((row) => row.reason === 'nightly driver roll-out' && row.actor === 'agent-7'), 'actor and reason are stored');
  t.true(rows.some((row) => row.before !== null && row.after !== null), 'updates store both snapshots');
  t.true(rows.some((row) => row.device_id === ''), 'host entries are chained too');
  let prev = '0'.repeat(64);
  for (const row of rows) {
    const expected = documentedHash(prev, row);
    t.is(row.prev_hash, prev, `entry ${row.revision}/${row.seq} links to the one before`);
    t.is(row.hash, expected, `entry ${row.revision}/${row.seq} is hashed as documented`);
    prev = expected;
  }
  t.is(prev, head, 'the head a write returned is the documented hash of the last entry');
  t.deepEqual(
    served.entries.map((entry: any) => entry.hash),
    rows.map((row) => row.hash),
    'ListHistory serves the stored hashes',
  );
});

// Each chained column, a different value that keeps the row valid for the schema, and the
// entry (revision 4, index 1: an update of hosts/h0/devices/gpu1, both snapshots present).
const EDITS: [column: string, sql: string][] = [
  ['time_ms', 'time_ms = time_ms + 1'],
  ['host_id', "host_id = 'h1'"],
  ['device_id', "device_id = 'gpu0'"],
  ['change', "change = 'CREATED'"],
  ['actor', "actor = 'mallory'"],
  ['reason', "reason = 'nothing to see'"],
  ['before', `before = replace(before, '"l":{}', '"l":{"pool":"b"}')`],
  ['after', `after = replace(after, '"l":{}', '"l":{"pool":"b"}')`],
];

test('editing any one chained column of an entry is caught as ALTERED at that entry', async (t) => {
  const { server } = await seededFile(t);
  await server.server.close();
  t.like(await verifyFile(t, server.dbPath, server.dir), { intact: true, entries_checked: '23' });

  for (const [column, assignment] of EDITS) {
    // A copy of the pristine file per column, so that each edit is the only one.
    const copy = path.join(server.dir, `tampered-${column}.db`);
    const pristine = openDatabase(server.dbPath, { readonly: true });
    pristine.prepare('VACUUM INTO ?').run(copy);
    pristine.close();
    // The database registers its head anchor (migration 0006): a copy travels with it.
    copyFileSync(`${server.dbPath}.head`, `${copy}.head`);
    const db = openDatabase(copy);
    editableHistory(db);
    const before = db.prepare('SELECT * FROM history_entries WHERE revision = 4 AND seq = 1').get() as Record<string, unknown>;
    t.is(editEntries(db, `UPDATE history_entries SET ${assignment} WHERE revision = 4 AND seq = 1`), 1);
    const after = db.prepare('SELECT * FROM history_entries WHERE revision = 4 AND seq = 1').get() as Record<string, unknown>;
    db.close();
    t.not(after[column], before[column], `the edit changes ${column}`);

    const result = await verifyFile(t, copy, server.dir);
    t.like(result, { intact: false, problem: 'CHAIN_PROBLEM_ALTERED', revision: '4', index: 1 }, `an edited ${column} is caught`);
    t.regex(result.description, /entry 4\/1 .*altered/, column);
  }
});

test('the verifier is not fooled by the edited entry carrying a hash recomputed for its new content', async (t) => {
  // The attacker recomputes the edited entry's own hash (not those after it): the next entry's
  // link then no longer matches, so the chain breaks right after the edit.
  const { server } = await seededFile(t);
  await server.server.close();
  const db = openDatabase(server.dbPath);
  editableHistory(db);
  t.is(editEntries(db, `UPDATE history_entries SET after = replace(after, '"l":{}', '"l":{"pool":"b"}') WHERE revision = 4 AND seq = 1`), 1);
  const row = db
    .prepare(
      `SELECT revision, seq, time_ms, host_id, device_id, change, actor, reason, before, after,
              lower(hex(prev_hash)) AS prev_hash, lower(hex(hash)) AS hash FROM history_entries WHERE revision = 4 AND seq = 1`,
    )
    .get() as StoredRow;
  db.prepare('UPDATE history_entries SET hash = unhex(?) WHERE revision = 4 AND seq = 1').run(documentedHash(row.prev_hash, row));
  db.close();
  const result = await verifyFile(t, server.dbPath, server.dir);
  t.like(result, { intact: false, problem: 'CHAIN_PROBLEM_REMOVED_OR_REORDERED', revision: '5', index: 0 });
});
