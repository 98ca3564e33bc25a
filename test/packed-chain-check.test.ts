// The start-up chain check's fast path over SQLite's packed rows (server/store/packed-chain-check.ts)
// gives the walk's verdict: on history as the store writes it, it checks the same newest
// entries and passes without parsing a row (awkward texts, several entries per row, version 2
// entries left to the walk, revision 2); a row edited into other but equal JSON passes as the
// walk passes it; any change the walk calls broken, it does not pass, and the store then refuses
// to start with the walk's own words.

import test from 'ava';
import path from 'node:path';
import type { CommitBatch, HistoryRecord, HostRecord } from '../server/core/store.ts';
import { EMPTY_BATCH } from '../server/core/write-planning.ts';
import { chainedColumns, chainHash, GENESIS_HASH, type ChainedColumns } from '../server/store/history-chain.ts';
import { openDatabase } from '../server/store/open-database.ts';
import { checkNewestPacked, splitArray, type PackedRow } from '../server/store/packed-chain-check.ts';
import { walkEncodingsOf } from '../server/store/sqlite-history.ts';
import { SqliteStore } from '../server/store/sqlite-store.ts';
import { execSql } from './helpers/db-file.ts';
import { tempDir } from './helpers/server.ts';

const T0 = 1_700_000_000_000;

/** Labels a split or a cut could trip over: brackets, commas, quotes, backslashes, non-ASCII. */
const AWKWARD = ['plain', '],[', '"],["', '\\', '\\"', 'a\\\\"b', '{"x":[1,2]}', 'é ✓ 𝄞', ',""]', '\n\t'];

function host(hostId: string, revision: number, label: string): HostRecord {
  const time = T0 + revision;
  return { hostId, labels: { note: label }, revision, createRevision: revision, createTime: time, updateTime: time, lastSyncTime: time, reachable: true, draining: false };
}

/** Revision `revision` writes each of `hostIds` (one entry each), on behalf of someone when given (version 2 entries). */
function write(revision: number, hostIds: readonly string[], onBehalfOf?: string): CommitBatch {
  const hosts = hostIds.map((hostId, i) => host(hostId, revision, AWKWARD[(revision + i) % AWKWARD.length]));
  const history: HistoryRecord[] = hosts.map((record, seq) => ({
    revision,
    seq,
    time: T0 + revision,
    hostId: record.hostId,
    deviceId: '',
    change: 'UPDATED',
    actor: 'alice "the admin"',
    reason: AWKWARD[seq % AWKWARD.length],
    before: undefined,
    after: { kind: 'host', host: record },
    ...(onBehalfOf && { onBehalfOf }),
  }));
  return { ...EMPTY_BATCH, hostUpserts: hosts, history };
}

/** A store's history: revisions of one to four hosts, a few on behalf of someone. */
function writeHistory(file: string, revisions: number, onBehalfOfAt: readonly number[] = []): void {
  const store = new SqliteStore({ path: file, durability: 'relaxed' });
  for (let r = 1; r <= revisions; r++) {
    const hosts = Array.from({ length: 1 + (r % 4) }, (_, i) => `h${i}`);
    store.commit(write(r, hosts, onBehalfOfAt.includes(r) ? 'bob "on behalf"' : undefined));
  }
  store.close();
}

function rowsNewestFirst(file: string): PackedRow[] {
  const db = openDatabase(file, { readonly: true });
  try {
    return db.prepare('SELECT revision, entries, links FROM history ORDER BY revision DESC').all() as PackedRow[];
  } finally {
    db.close();
  }
}

/** A packed entry's chained columns, as sqlite-history.ts reads them. */
function columnsOf(revision: number, e: unknown[]): ChainedColumns {
  return chainedColumns({
    revision,
    seq: e[0] as number,
    time_ms: e[1] as number,
    host_id: e[2] as string,
    device_id: e[3] as string,
    change: e[4] as 'UPDATED',
    actor: e[5] as string,
    reason: e[6] as string,
    before: e[7] as string | null,
    after: e[8] as string | null,
    on_behalf_of: e[9] as string,
  });
}

/** The walk's encodings of a row (sqlite-history.ts walkEncodingsOf), counting the rows it was asked for. */
function walkEncodings(asked: number[]) {
  return (row: PackedRow): string[] => {
    asked.push(row.revision);
    return walkEncodingsOf(row);
  };
}

/** Every entry, in chain order, counted: 1..4 entries per revision r (1 + r % 4). */
function entriesUpTo(revisions: number): number {
  let total = 0;
  for (let r = 1; r <= revisions; r++) total += 1 + (r % 4);
  return total;
}

/** The row where the newest `limit` entries start (1..4 entries per revision r, newest first from `revisions`). */
function startRow(revisions: number, limit: number): number {
  let total = 0;
  for (let r = revisions; r >= 1; r--) {
    total += 1 + (r % 4);
    if (total > limit) return r;
  }
  return 0;
}

test('on history as the store writes it, the fast check passes the newest entries without parsing a row but at revision 2, version 2 entries and the row where they start', (t) => {
  const file = path.join(tempDir(t), 'registry.db');
  writeHistory(file, 40, [7, 31]);
  const rows = rowsNewestFirst(file);
  const total = entriesUpTo(40);
  for (const limit of [1, 2, 3, 5, 17, 50, total - 1, total, total + 10]) {
    const asked: number[] = [];
    t.is(checkNewestPacked(rows, limit, GENESIS_HASH, walkEncodings(asked)), Math.min(limit, total), `limit ${limit}`);
    // Only the rows a cut cannot serve were parsed, and only when the check reached them; and,
    // when the newest `limit` start inside a row, that row, whose older entries no hash covers.
    const start = startRow(40, limit);
    for (const revision of asked) t.true(revision === 2 || revision === 7 || revision === 31 || revision === start, `row ${revision} parsed at limit ${limit}`);
    if (limit < total) t.true(asked.includes(start), `the start row ${start} parsed at limit ${limit}`);
  }
  const asked: number[] = [];
  checkNewestPacked(rows, total, GENESIS_HASH, walkEncodings(asked));
  t.deepEqual(asked.sort((a, b) => a - b), [2, 7, 31]);
});

test('the whole history from the checkpoint: a wrong start fails it, as the walk fails it', (t) => {
  const file = path.join(tempDir(t), 'registry.db');
  writeHistory(file, 6);
  const rows = rowsNewestFirst(file);
  const all = entriesUpTo(6);
  t.is(checkNewestPacked(rows, all, GENESIS_HASH, walkEncodings([])), all);
  t.is(checkNewestPacked(rows, all, 'f'.repeat(64), walkEncodings([])), undefined);
  t.is(checkNewestPacked(rows, all, 'not a hash', walkEncodings([])), undefined);
  // Fewer than all: the start is the link of the entry before the newest `limit`, whatever the checkpoint.
  t.is(checkNewestPacked(rows, all - 1, 'f'.repeat(64), walkEncodings([])), all - 1);
});

/** The walk's verdict (history-encoding.ts walkChain over sqlite-history.ts's parse), written out: every entry from genesis. */
function walkPasses(rowsNewest: readonly PackedRow[]): boolean {
  let prev = GENESIS_HASH;
  for (const row of [...rowsNewest].reverse()) {
    let entries: unknown;
    try {
      entries = JSON.parse(row.entries);
    } catch {
      return false;
    }
    if (!Array.isArray(entries) || !entries.every((e) => Array.isArray(e) && e.length === 10) || !row.links) return false;
    for (let i = 0; i < entries.length; i++) {
      if (row.links.length < (i + 1) * 64 || row.links.toString('hex', i * 64, i * 64 + 32) !== prev) return false;
      const computed = chainHash(prev, columnsOf(row.revision, (entries as unknown[][])[i]));
      if (row.links.toString('hex', i * 64 + 32, i * 64 + 64) !== computed) return false;
      prev = computed;
    }
  }
  return true;
}

test('no change to a row\'s text, links or revision that the walk calls broken passes the fast check', (t) => {
  const file = path.join(tempDir(t), 'registry.db');
  writeHistory(file, 5, [3]);
  const rows = rowsNewestFirst(file);
  const limit = entriesUpTo(5);
  const fast = (changed: PackedRow[]) =>
    checkNewestPacked(changed, limit, GENESIS_HASH, walkEncodingsOf);
  t.true(walkPasses(rows));
  t.is(fast(rows), limit);
  let tried = 0;
  for (const [index, row] of rows.entries()) {
    const changedRow = (edited: PackedRow) => rows.map((r, i) => (i === index ? edited : r));
    for (let at = 0; at < row.entries.length; at += 3) {
      for (const replacement of ['x', '1', '"', ' ', '\\', ']', ',']) {
        if (row.entries[at] === replacement) continue;
        const changed = changedRow({ ...row, entries: row.entries.slice(0, at) + replacement + row.entries.slice(at + 1) });
        if (fast(changed) !== undefined) t.true(walkPasses(changed), `an edit at ${at} of revision ${row.revision} passed the fast check only`);
        tried++;
      }
    }
    for (let byte = 0; byte < row.links!.length; byte++) {
      const links = Buffer.from(row.links!);
      links[byte] ^= 0x10;
      t.is(fast(changedRow({ ...row, links })), undefined);
    }
    t.is(fast(changedRow({ ...row, links: row.links!.subarray(0, row.links!.length - 64) })), undefined);
    t.is(fast(changedRow({ ...row, revision: row.revision + 100 })), undefined);
  }
  t.true(tried > 1000);
});

test('a row rewritten as other JSON with the same values passes, as the walk passes it; changed values are refused with the walk\'s words', (t) => {
  const file = path.join(tempDir(t), 'registry.db');
  writeHistory(file, 12);
  // Spaces after the commas: the same values, another text. The walk parses and encodes them again.
  execSql(file, "UPDATE history SET entries = replace(entries, ',\"UPDATED\",', ', \"UPDATED\" ,') WHERE revision = 9");
  const reopened = new SqliteStore({ path: file, durability: 'relaxed' });
  t.is(reopened.startup.checkedEntries, entriesUpTo(12));
  reopened.close();

  execSql(file, "UPDATE history SET entries = replace(entries, 'alice', 'mallory') WHERE revision = 11");
  const refused = t.throws(() => new SqliteStore({ path: file, durability: 'relaxed' }));
  t.regex(refused!.message, /is corrupt: ALTERED at revision 11 index 0: entry 11\/0 \(hosts\/h0\) no longer matches its hash/);
});

test('an entry older than the newest checked, in the row where the check starts, that the walk cannot read refuses the start as the walk does', (t) => {
  // Revisions 1..5 hold 2, 3, 4, 1 and 2 entries; the newest 10 start inside revision 1: its
  // entry 0 is skipped, its entry 1 gives the start link, and no hash covers either.
  const limit = entriesUpTo(5) - 2;
  for (const [name, edit] of [
    ['a number made a letter (not JSON)', "UPDATE history SET entries = '[[0,x' || substr(entries, 5) WHERE revision = 1"],
    ['an element dropped (9 of 10)', "UPDATE history SET entries = '[[' || substr(entries, instr(entries, ',') + 1) WHERE revision = 1"],
  ] as const) {
    const file = path.join(tempDir(t), 'registry.db');
    writeHistory(file, 5);
    const before = rowsNewestFirst(file);
    t.is(checkNewestPacked(before, limit, GENESIS_HASH, walkEncodings([])), limit, name);
    execSql(file, edit);
    const after = rowsNewestFirst(file);
    t.not(after.at(-1)!.entries, before.at(-1)!.entries, name);
    // The fast check leaves it to the walk, and the walk refuses the start.
    // The walk's parse reads a row that is not JSON, or not entries of 10 columns, as one entry.
    t.is(checkNewestPacked(after, limit, GENESIS_HASH, walkEncodingsOf), undefined, name);
    const refused = t.throws(() => new SqliteStore({ path: file, durability: 'relaxed', startupChainCheck: limit }), undefined, name);
    t.regex(refused!.message, /is corrupt: .* at revision \d+ index \d+/, name);
  }
});

test('a JSON array splits into its top-level elements, strings and nesting kept whole', (t) => {
  t.deepEqual(splitArray('[1,"a,b",[2,[3]],{"k":[4,5]},"q\\"],[",null]', 6), ['1', '"a,b"', '[2,[3]]', '{"k":[4,5]}', '"q\\"],["', 'null']);
  t.deepEqual(splitArray('["\\\\",2]', 2), ['"\\\\"', '2']);
  t.deepEqual(splitArray('[[0,"x"]]', 1), ['[0,"x"]']);
  t.is(splitArray('[1,2,3]', 2), undefined);
  t.is(splitArray('[1,2]', 3), undefined);
  t.is(splitArray('[1,"open]', 2), undefined);
  t.is(splitArray('1,2', 2), undefined);
});
