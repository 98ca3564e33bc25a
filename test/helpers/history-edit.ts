// History edited by hand behind the server's back, entry by entry, as an attacker with a sqlite3
// shell would. SQLite keeps a revision's entries packed in one row (migrations/0007: history.entries
// JSON, history.links 64 bytes per entry); the history_entries view shows them one row each with
// the columns the history table had before. `editableHistory` adds TEMP triggers (this connection
// only; the file's schema is untouched) so that UPDATE and DELETE on that view rewrite the packed
// row beneath: an entry's chained columns, its prev_hash or hash (32-byte BLOBs), or the entry
// itself. An entry is found by (revision, seq). Moving entries (a reorder) is written out in the
// test that does it.

import type Database from 'better-sqlite3';
import { openDatabase } from '../../server/store/open-database.ts';

/** The array path of the entry of `revision` (the row being changed) numbered `seq`. */
const POSITION = `(SELECT e.key FROM json_each(entries) AS e WHERE e.value ->> 0 = OLD.seq)`;

/** Makes UPDATE and DELETE on history_entries edit the packed rows (this connection only). */
export function editableHistory(db: Database.Database): void {
  db.exec(`
    CREATE TEMP TRIGGER IF NOT EXISTS history_entries_update INSTEAD OF UPDATE ON history_entries
    BEGIN
      UPDATE history SET
        entries = json_replace(entries, '$[' || ${POSITION} || ']',
          json_array(NEW.seq, NEW.time_ms, NEW.host_id, NEW.device_id, NEW.change, NEW.actor, NEW.reason,
                     NEW.before, NEW.after, NEW.on_behalf_of)),
        links = CASE WHEN links IS NULL THEN NULL ELSE unhex(
          hex(substr(links, 1, ${POSITION} * 64)) || hex(NEW.prev_hash) || hex(NEW.hash) ||
          hex(substr(links, ${POSITION} * 64 + 65))) END
      WHERE revision = OLD.revision;
    END;
    CREATE TEMP TRIGGER IF NOT EXISTS history_entries_delete INSTEAD OF DELETE ON history_entries
    BEGIN
      UPDATE history SET
        entries = json_remove(entries, '$[' || ${POSITION} || ']'),
        links = CASE WHEN links IS NULL THEN NULL ELSE unhex(
          hex(substr(links, 1, ${POSITION} * 64)) || hex(substr(links, ${POSITION} * 64 + 65))) END
      WHERE revision = OLD.revision;
    END;`);
}

/**
 * Runs one statement on history_entries (made editable on `db`); returns how many entries it
 * edited. SQLite does not count a view's rows as changes; total_changes() counts the packed rows
 * each trigger run rewrote, one per entry.
 */
export function editEntries(db: Database.Database, sql: string, ...params: unknown[]): number {
  editableHistory(db);
  const total = db.prepare('SELECT total_changes() AS total').pluck();
  const before = total.get() as number;
  db.prepare(sql).run(...params);
  return (total.get() as number) - before;
}

/** editEntries on the file, opened for this statement alone. */
export function editHistory(dbPath: string, sql: string, ...params: unknown[]): number {
  const db = openDatabase(dbPath, { timeout: 5000 });
  try {
    return editEntries(db, sql, ...params);
  } finally {
    db.close();
  }
}
