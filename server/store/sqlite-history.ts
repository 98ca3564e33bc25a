// SQLite's history (migration 0007): one row per revision, its entries packed, and one narrow
// row per host the revision touched (history_hosts). A registration used to write one history
// row and one index entry per device, most of what a commit cost the storage worker; it now
// writes two rows per host. The entries, their order, their chained columns and their hashes are
// what every store writes (history-encoding.ts): only where SQLite keeps them changed, so the
// chain is the one it always was.
//
// Layout (migrations/0007_packed_history.sql):
//   history.entries  JSON [[seq, time_ms, host_id, device_id, change, actor, reason, before, after, on_behalf_of], ...]
//                    in chain order, before/after being the snapshots' JSON text (as chained);
//   history.links    prev hash then hash, 32 bytes each, per entry in the same order (NULL for
//                    history written before the chain existed, chained here when the store opens);
//   history_hosts    (host_id, revision) for every host a revision has entries about.
// Reads go through the rows in revision order, 64 rows per statement call past a cursor on the
// revision, and stop at their page, so memory holds at most 64 rows, never the history.
//
// Owns: packing a commit's chained entries into rows, and every read and removal of history.
// Called by sqlite-store.ts (inside its transactions) and startup-check.ts (through `checkNewest`,
// then `newest` when an entry did not pass).

import type Database from 'better-sqlite3';
import type { ChainWalk, ChainWalkQuery, FirstChangesQuery, HistoryQuery, HistoryRecord } from '../core/store.ts';
import { canonicalEntry, CHAIN_VERSION_2, ChainCursor, chainedColumns, chainHash, type ChainedColumns } from './history-chain.ts';
import { checkNewestPacked } from './packed-chain-check.ts';
import type { EncodedHistory } from './commit-encoding.ts';
import { walkChain } from './history-encoding.ts';
import { historyFromRow, type HistoryRowBase } from './rows.ts';

/** One entry as packed in history.entries. */
type PackedEntry = [
  seq: number,
  time: number,
  hostId: string,
  deviceId: string,
  change: HistoryRowBase['change'],
  actor: string,
  reason: string,
  before: string | null,
  after: string | null,
  onBehalfOf: string,
];

const LINK_BYTES = 64;
const HASH_BYTES = 32;

/** One revision's history as a row to insert (built before the commit's transaction). */
export interface PackedRevision {
  readonly revision: number;
  readonly entries: string;
  readonly links: Buffer;
  /** The hosts the revision has entries about (its history_hosts rows). */
  readonly hosts: readonly string[];
}

/** A history row as read back. */
interface HistoryRow {
  readonly revision: number;
  readonly entries: string;
  readonly links: Buffer | null;
}

/** One entry as read back: its columns (as the shared row mapping takes them) and its links. */
export interface StoredEntry {
  readonly row: HistoryRowBase;
  readonly prev: string | undefined;
  readonly hash: string | undefined;
}

/**
 * Chains a batch's encoded history (commit-encoding.ts) after `head` and packs it one row per
 * revision, as chainEntries then packRevisions do for records: the same hashes (over the same
 * canonical text), the same rows; the text is hashed and cut as it came, no record rebuilt.
 */
export function chainPacked(
  head: string,
  history: EncodedHistory,
): { revisions: PackedRevision[]; heads: { revision: number; hash: string }[]; head: string } {
  const cursor = new ChainCursor(head);
  const lines = history.text.split('\n');
  const revisions: PackedRevision[] = [];
  const heads: { revision: number; hash: string }[] = [];
  let index = 0;
  for (const { revision, count, hosts } of history.revisions) {
    const links = Buffer.allocUnsafe(count * LINK_BYTES);
    const packed = new Array<string>(count);
    const v1 = `[${revision},`;
    const v2 = `[${CHAIN_VERSION_2},${revision},`;
    for (let i = 0; i < count; i++, index++) {
      const encoding = lines[index];
      if (encoding === undefined || encoding === '') throw new Error(`the encoded history holds fewer entries than its revisions count`);
      cursor.next(encoding, links, i * LINK_BYTES);
      // The packed entry [seq, ..., after, on_behalf_of] is cut from the canonical encoding:
      // version 1 is [revision, seq, ..., after], version 2 the same led by 2 and ending with
      // on_behalf_of. Cutting the text spares encoding (and escaping) the snapshots again.
      if (history.versions[index] === '2' && encoding.startsWith(v2)) packed[i] = `[${encoding.slice(v2.length)}`;
      else if (history.versions[index] === '1' && encoding.startsWith(v1) && encoding.endsWith(']')) packed[i] = `[${encoding.slice(v1.length, -1)},""]`;
      else throw new Error(`entry ${index} of the encoded history is not an entry of revision ${revision}`);
    }
    revisions.push({ revision, entries: `[${packed.join(',')}]`, links, hosts });
    heads.push({ revision, hash: links.toString('hex', (count - 1) * LINK_BYTES + HASH_BYTES) });
  }
  if (index !== lines.length - 1) throw new Error(`the encoded history holds more entries than its revisions count`);
  return { revisions, heads, head: heads.at(-1)?.hash ?? head };
}

/** The hash in `links` at entry `index` (offset 0: its prev, 32: its own); undefined when absent. */
function linkAt(links: Buffer | null, index: number, offset: number): string | undefined {
  const start = index * LINK_BYTES + offset;
  return links && links.length >= start + HASH_BYTES ? links.toString('hex', start, start + HASH_BYTES) : undefined;
}

/** A row's entries' canonical encodings as the chain walk reads them (unreadable text: one entry). */
export function walkEncodingsOf(row: HistoryRow): string[] {
  return unpack(row).map((entry) => canonicalEntry(chainedColumns(entry.row)));
}

/**
 * A row's entries in chain order. Entries that no longer read as the layout says (edited by
 * hand) come back as one entry holding the raw text: the chain walk then finds it ALTERED.
 */
function unpack(row: HistoryRow): StoredEntry[] {
  let packed: unknown;
  try {
    packed = JSON.parse(row.entries);
  } catch {
    packed = undefined;
  }
  if (!Array.isArray(packed) || !packed.every((entry) => Array.isArray(entry) && entry.length === 10)) {
    const unreadable: HistoryRowBase = {
      revision: row.revision,
      seq: 0,
      time_ms: 0,
      host_id: '',
      device_id: '',
      change: 'UPDATED',
      actor: '',
      reason: '',
      before: row.entries,
      after: null,
      on_behalf_of: '',
    };
    return [{ row: unreadable, prev: linkAt(row.links, 0, 0), hash: linkAt(row.links, 0, HASH_BYTES) }];
  }
  return (packed as PackedEntry[]).map((e, i) => ({
    row: {
      revision: row.revision,
      seq: e[0],
      time_ms: e[1],
      host_id: e[2],
      device_id: e[3],
      change: e[4],
      actor: e[5],
      reason: e[6],
      before: e[7],
      after: e[8],
      on_behalf_of: e[9],
    },
    prev: linkAt(row.links, i, 0),
    hash: linkAt(row.links, i, HASH_BYTES),
  }));
}

function recordOf(entry: StoredEntry): HistoryRecord {
  return historyFromRow(entry.row, entry.hash);
}

function walkedOf(entry: StoredEntry): { columns: ChainedColumns; prev: string | undefined; hash: string | undefined } {
  return { columns: chainedColumns(entry.row), prev: entry.prev, hash: entry.hash };
}

/** The entries of rows read in revision order, each row's in chain order (reversed for newest first). */
function* entriesOf(rows: Iterable<unknown>, newestFirst = false): Generator<StoredEntry> {
  for (const row of rows as Iterable<HistoryRow>) {
    const entries = unpack(row);
    if (newestFirst) entries.reverse();
    yield* entries;
  }
}

const ROW = 'h.revision AS revision, h.entries AS entries, h.links AS links';

/** Rows read per statement call: reads hold at most a page of rows (and parse them one by one). */
const PAGE_ROWS = 64;
/** Cursors before the first and after the last revision. */
const OLDEST = -1;
const NEWEST = Number.MAX_SAFE_INTEGER;

/**
 * The rows of a query ordered by revision (unique within it), a page at a time: `fetch` returns
 * up to `limit` rows past the cursor (after it ascending, before it descending). Pages are read
 * with all(), never iterate(): an iterator is a native object the collector may free, which
 * aborts Node 24 (server/store/open-database.ts).
 */
function* pagedRows(fetch: (cursor: number, limit: number) => HistoryRow[], start: number): Generator<HistoryRow> {
  let cursor = start;
  for (;;) {
    const rows = fetch(cursor, PAGE_ROWS);
    yield* rows;
    if (rows.length < PAGE_ROWS) return;
    cursor = rows[rows.length - 1].revision;
  }
}
const OF_HOST = 'history_hosts AS k JOIN history AS h ON h.revision = k.revision';

export class SqliteHistory {
  private readonly statements: ReturnType<typeof prepareStatements>;
  /** List queries vary only by which filters are present: each shape is prepared once. */
  private readonly queryCache = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {
    this.statements = prepareStatements(db);
  }

  /** Writes packed revisions; inside the caller's transaction. */
  append(revisions: readonly PackedRevision[]): void {
    const s = this.statements;
    for (const { revision, entries, links, hosts } of revisions) {
      s.insert.run(revision, entries, links);
      for (const host of hosts) s.insertHost.run(host, revision);
    }
  }

  /** The hash of the last entry at or before `revision` (of the last entry when undefined). */
  lastHash(revision = Number.MAX_SAFE_INTEGER): string | undefined {
    const row = this.statements.lastHash.get(revision) as { hash: string | null } | undefined;
    return row?.hash || undefined;
  }

  list(query: HistoryQuery): HistoryRecord[] {
    const { hostId, deviceId, after, newestFirst, limit } = query;
    const where: string[] = [];
    const params: unknown[] = [];
    const revision = hostId === undefined ? 'h.revision' : 'k.revision';
    if (hostId !== undefined) {
      where.push('k.host_id = ?');
      params.push(hostId);
    }
    const bound = (condition: string, value: unknown) => {
      where.push(`${revision} ${condition}`);
      params.push(value);
    };
    if (query.startRevision !== undefined) bound('>= ?', query.startRevision);
    if (query.endRevision !== undefined) bound('<= ?', query.endRevision);
    // Time and actor are properties of a revision: resolved through the revisions table.
    if (query.startTime !== undefined) bound('>= (SELECT COALESCE(MIN(revision), 9e18) FROM revisions WHERE time_ms >= ?)', query.startTime);
    if (query.endTime !== undefined) bound('<= (SELECT COALESCE(MAX(revision), 0) FROM revisions WHERE time_ms < ?)', query.endTime);
    if (query.actor !== undefined) bound('IN (SELECT revision FROM revisions WHERE actor = ?)', query.actor);
    if (after) bound(newestFirst ? '<= ?' : '>= ?', after.revision);
    // Read a page of rows at a time past a cursor on the revision (the rows' order and key).
    where.push(`${revision} ${newestFirst ? '<' : '>'} ?`);
    const sql = `SELECT ${ROW} FROM ${hostId === undefined ? 'history AS h' : OF_HOST}
      WHERE ${where.join(' AND ')} ORDER BY ${revision} ${newestFirst ? 'DESC' : 'ASC'} LIMIT ?`;
    const page: HistoryRecord[] = [];
    if (limit <= 0) return page;
    const statement = this.query(sql);
    const rows = pagedRows((cursor, rowLimit) => statement.all(...params, cursor, rowLimit) as HistoryRow[], newestFirst ? NEWEST : OLDEST);
    for (const entry of entriesOf(rows, newestFirst)) {
      const { row } = entry;
      if (hostId !== undefined && (row.host_id !== hostId || (deviceId !== undefined && row.device_id !== deviceId))) continue;
      if (after && row.revision === after.revision && (newestFirst ? row.seq >= after.seq : row.seq <= after.seq)) continue;
      page.push(recordOf(entry));
      if (page.length >= limit) break;
    }
    return page;
  }

  /** Each resource's first entry after `revision` (of one host, or one resource, when given). */
  firstChangesAfter(query: FirstChangesQuery): HistoryRecord[] {
    const { hostId, deviceId, through } = query;
    const s = this.statements;
    const rows =
      hostId === undefined
        ? pagedRows((cursor, rowLimit) => s.rowsPage.all(cursor, rowLimit) as HistoryRow[], query.revision)
        : pagedRows((cursor, rowLimit) => s.hostRowsPage.all(hostId, cursor, rowLimit) as HistoryRow[], query.revision);
    const seen = new Set<string>();
    const first: HistoryRecord[] = [];
    for (const entry of entriesOf(rows)) {
      const { row } = entry;
      // Rows come in revision order: past the slice's end, the rest is too.
      if (through !== undefined && row.revision > through) break;
      if (hostId !== undefined && (row.host_id !== hostId || (deviceId !== undefined && row.device_id !== deviceId))) continue;
      const key = `${row.host_id}\u0000${row.device_id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      first.push(recordOf(entry));
      if (deviceId !== undefined) break;
    }
    return first;
  }

  /** Walks up to `limit` entries of the chain after `query.after` (history-encoding.ts, walkChain). */
  walk(query: ChainWalkQuery): ChainWalk {
    const { after, limit } = query;
    const s = this.statements;
    // From after's revision on (its entries up to after.seq are skipped below): past revision - 1.
    const rows = pagedRows((cursor, rowLimit) => s.rowsPage.all(cursor, rowLimit) as HistoryRow[], after ? after.revision - 1 : OLDEST);
    function* page() {
      let taken = 0;
      for (const entry of entriesOf(rows)) {
        if (after && entry.row.revision === after.revision && entry.row.seq <= after.seq) continue;
        if (taken++ >= limit) return;
        yield walkedOf(entry);
      }
    }
    return walkChain(page(), query);
  }

  /** The newest `limit` entries (fewer when the history is shorter), in chain order. */
  newest(limit: number): { columns: ChainedColumns; prev: string | undefined; hash: string | undefined }[] {
    const rows: StoredEntry[][] = [];
    let count = 0;
    if (limit > 0) {
      const s = this.statements;
      for (const row of pagedRows((cursor, rowLimit) => s.rowsBeforePage.all(cursor, rowLimit) as HistoryRow[], NEWEST)) {
        const entries = unpack(row);
        rows.push(entries);
        count += entries.length;
        if (count >= limit) break;
      }
    }
    return rows.reverse().flat().slice(-limit).map(walkedOf);
  }

  /**
   * The newest `limit` entries checked without building them (packed-chain-check.ts): how many
   * passed, or undefined when any did not, for newest() and the walk to find and name.
   */
  checkNewest(limit: number, startHash: string): number | undefined {
    const s = this.statements;
    const rows = pagedRows((cursor, rowLimit) => s.rowsBeforePage.all(cursor, rowLimit) as HistoryRow[], NEWEST);
    return checkNewestPacked(rows, limit, startHash, walkEncodingsOf);
  }

  /** Removes history up to and including `revision`; returns how many entries went. Inside the caller's transaction. */
  removeUpTo(revision: number): number {
    const s = this.statements;
    const { entries } = s.countUpTo.get(revision) as { entries: number };
    s.deleteUpTo.run(revision);
    s.deleteHostsUpTo.run(revision);
    return entries;
  }

  /**
   * Chains history written before the chain existed (migration 0002), once, in order from
   * `startHash`. Such history is all unchained and comes first: only the oldest row is looked at.
   */
  chainUnchained(startHash: string): void {
    const s = this.statements;
    const oldest = s.oldestLinks.get() as { unchained: number } | undefined;
    if (!oldest?.unchained) return;
    this.db.transaction(() => {
      let prev = startHash;
      let revision = -1;
      for (;;) {
        const rows = s.rowsPage.all(revision, 500) as HistoryRow[];
        for (const row of rows) {
          const entries = unpack(row);
          const links = Buffer.allocUnsafe(entries.length * LINK_BYTES);
          entries.forEach((entry, i) => {
            const hash = chainHash(prev, chainedColumns(entry.row));
            links.write(prev, i * LINK_BYTES, HASH_BYTES, 'hex');
            links.write(hash, i * LINK_BYTES + HASH_BYTES, HASH_BYTES, 'hex');
            prev = hash;
          });
          s.setLinks.run(links, row.revision);
          revision = row.revision;
        }
        if (rows.length < 500) break;
      }
    })();
  }

  private query(sql: string): Database.Statement {
    let statement = this.queryCache.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.queryCache.set(sql, statement);
    }
    return statement;
  }
}

function prepareStatements(db: Database.Database) {
  return {
    insert: db.prepare('INSERT INTO history (revision, entries, links) VALUES (?, ?, ?)'),
    // OR IGNORE: a row left behind by history deleted by hand (a restore, a re-anchoring) says
    // the same as the one a revision written again under its number would add.
    insertHost: db.prepare('INSERT OR IGNORE INTO history_hosts (host_id, revision) VALUES (?, ?)'),
    lastHash: db.prepare('SELECT lower(hex(substr(links, -32))) AS hash FROM history WHERE revision <= ? ORDER BY revision DESC LIMIT 1'),
    rowsPage: db.prepare(`SELECT ${ROW} FROM history AS h WHERE h.revision > ? ORDER BY h.revision LIMIT ?`),
    hostRowsPage: db.prepare(`SELECT ${ROW} FROM ${OF_HOST} WHERE k.host_id = ? AND k.revision > ? ORDER BY k.revision LIMIT ?`),
    rowsBeforePage: db.prepare(`SELECT ${ROW} FROM history AS h WHERE h.revision < ? ORDER BY h.revision DESC LIMIT ?`),
    // An unreadable row (altered by hand) counts as one entry, as the chain walk reads it, so a
    // compaction past it still removes it rather than failing on its JSON.
    countUpTo: db.prepare(
      'SELECT COALESCE(SUM(CASE WHEN json_valid(entries) THEN json_array_length(entries) ELSE 1 END), 0) AS entries FROM history WHERE revision <= ?',
    ),
    deleteUpTo: db.prepare('DELETE FROM history WHERE revision <= ?'),
    // history_hosts is keyed by host: this is a scan of a narrow table, once per compaction.
    deleteHostsUpTo: db.prepare('DELETE FROM history_hosts WHERE revision <= ?'),
    oldestLinks: db.prepare('SELECT links IS NULL AS unchained FROM history ORDER BY revision LIMIT 1'),
    setLinks: db.prepare('UPDATE history SET links = ? WHERE revision = ?'),
  };
}
