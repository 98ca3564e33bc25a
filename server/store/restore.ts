// `devcompat restore <backup> --db <path>`: puts a backup (from `devcompat backup`, or any
// consistent copy such as `sqlite3 .backup`) in place of a stopped server's database, as one
// explicit, recorded act. Steps, each a precondition of the next:
//   1. the backup is a SQLite file holding a registry; when it was anchored (it comes from a
//      server that ran) and no head anchor (`<db>.head`) is beside the target (a new machine
//      or path: the anchor went with the old one), the operator must say which revisions
//      clients may have seen (`resumeAbove`), or nothing is touched;
//   2. the backup is copied to a temporary file beside the database and fsynced (the long
//      step: interrupted, it leaves the database as it was);
//   3. with the single-writer lock held (a running server makes this fail at once, naming its
//      pid), the current database and its -wal/-shm are moved aside together
//      (`<db>.replaced-<time>`, never deleted: a WAL left beside the new file would be
//      replayed into it), the copy renamed into place, and the folder fsynced;
//   4. the store is opened once with acceptRestore, as `serve --accept-restore` would: when the
//      head anchor has seen later revisions, the restore is recorded as a revision above the
//      highest it saw (numbering never reuses a revision a client may have seen), and the
//      anchor follows the restored file; without an anchor, the database is re-anchored on the
//      record, numbered above `resumeAbove`. The newest history is verified on the way (the
//      start-up chain check). If this open fails, the restored copy is removed and the
//      database and its anchor are put back as they were, and the error says so.
// The server then starts on the restored file with no flag.

import { closeSync, copyFileSync, existsSync, openSync, readFileSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openDatabase } from './open-database.ts';
import { SingleWriterLock } from './single-writer-lock.ts';
import { SqliteStore } from './sqlite-store.ts';
import { fsyncPath } from './fsync-path.ts';
import { anchorPath, HeadAnchor } from './head-anchor.ts';

export interface RestoreReport {
  readonly dbPath: string;
  /** The revision and head the restored file holds (before any restore revision). */
  readonly revision: number;
  readonly headHash: string;
  /** Where the replaced database went, if there was one. */
  readonly replacedTo: string | undefined;
  /** The restore revision recorded (the anchor had seen later revisions), if any. */
  readonly recorded: { readonly revision: number; readonly problem: string } | undefined;
  /** What the head anchor said: create (no anchor), match, advance, restore or reanchor. */
  readonly anchor: string | undefined;
  /** The re-anchoring recorded (a registered backup restored where no anchor was), if any. */
  readonly reanchored: { readonly revision: number; readonly problem: string } | undefined;
}

export class RestoreError extends Error {}

const SQLITE_HEADER = 'SQLite format 3\0';

/** The last revision a backup holds, and the anchor it registered, if any (read-only, before it is put in place). */
function readBackup(backup: string): { revision: number; anchorId: string | undefined } {
  const db = openDatabase(backup, { readonly: true, fileMustExist: true });
  try {
    const revision = (db.prepare('SELECT COALESCE(MAX(revision), 0) AS revision FROM revisions').get() as { revision: number }).revision;
    // The registration (migration 0006): absent in a backup of an older version, which then registers as new.
    const hasRegistration = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'head_anchor'").get() !== undefined;
    const row = hasRegistration ? (db.prepare('SELECT anchor_id AS id FROM head_anchor WHERE anchor_id IS NOT NULL').get() as { id: string } | undefined) : undefined;
    return { revision, anchorId: row?.id };
  } catch (error) {
    throw new RestoreError(`${backup}: not a devcompat registry (${(error as Error).message})`);
  } finally {
    db.close();
  }
}

function checkBackup(backup: string): void {
  if (!existsSync(backup)) throw new RestoreError(`${backup}: no such file`);
  const fd = openSync(backup, 'r');
  try {
    const header = Buffer.alloc(SQLITE_HEADER.length);
    readSync(fd, header, 0, header.length, 0);
    if (header.toString('latin1') !== SQLITE_HEADER) throw new RestoreError(`${backup}: not a SQLite database`);
  } finally {
    closeSync(fd);
  }
}

export interface RestoreOptions {
  readonly backup: string;
  readonly dbPath: string;
  readonly now?: Date;
  /**
   * The highest revision clients may have seen of the registry being replaced, when its head
   * anchor is gone (a restore onto a new machine or path): the restore is recorded above it.
   */
  readonly resumeAbove?: number;
}

const DATABASE_FILES = ['', '-wal', '-shm'] as const;

export function restoreDatabase(options: RestoreOptions): RestoreReport {
  const backup = path.resolve(options.backup);
  const dbPath = path.resolve(options.dbPath);
  if (backup === dbPath) throw new RestoreError(`${backup}: the backup is the database itself`);
  checkBackup(backup);
  const { revision, anchorId } = readBackup(backup);
  const folder = path.dirname(dbPath);
  if (!existsSync(folder)) throw new RestoreError(`the folder ${folder} does not exist`);
  const anchorFile = anchorPath(dbPath);
  const anchorBefore = existsSync(anchorFile) ? readFileSync(anchorFile) : undefined;
  const { resumeAbove } = options;
  if (resumeAbove !== undefined && (!Number.isSafeInteger(resumeAbove) || resumeAbove < 0)) {
    throw new RestoreError(`--resume-above must be a revision (a whole number from 0), not ${resumeAbove}`);
  }
  // The anchor here knows which revisions this registry's clients saw when it is the one the
  // backup registered (a restore in place), or any anchor for a backup that registered none
  // (an older version's). Otherwise (a new machine or path; a server that ran there first,
  // anchoring a registry of its own) only the operator knows.
  const anchorHere = anchorBefore ? anchorIdOf(dbPath) : undefined;
  const vouches = anchorBefore !== undefined && (anchorId === undefined || anchorHere === anchorId);
  if (!vouches && revision > 0 && resumeAbove === undefined) {
    const why = anchorBefore
      ? `the head anchor at ${anchorFile} is not this registry's (a server ran there on a registry of its own, or the anchor was replaced)`
      : `there is no head anchor at ${anchorFile} (a restore onto a new machine or path: the anchor stayed with the old one)`;
    throw new RestoreError(
      `${why}, so nothing says which revisions the backup's registry gave its clients, and numbering must not reuse one. Give ` +
        '--resume-above <revision>: the highest revision that registry may have reached (its last "history head" log line, the ' +
        `devcompat_revision metric, a watcher's last revision; when unsure, more: a gap in numbering is harmless). The backup holds revision ${revision}. Nothing was changed`,
    );
  }

  // The long step first, beside the database: interrupted, it leaves the database as it was.
  const temporary = `${dbPath}.restoring`;
  rmSync(temporary, { force: true });
  copyFileSync(backup, temporary);
  fsyncPath(temporary, 'r+');

  let replacedTo: string | undefined;
  let lock: SingleWriterLock;
  try {
    lock = SingleWriterLock.acquire(dbPath);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  try {
    if (existsSync(dbPath)) {
      replacedTo = `${dbPath}.replaced-${(options.now ?? new Date()).toISOString().replace(/[:.]/g, '-')}`;
      for (const suffix of DATABASE_FILES) {
        if (existsSync(dbPath + suffix)) renameSync(dbPath + suffix, replacedTo + suffix);
      }
    }
    renameSync(temporary, dbPath);
    fsyncPath(folder, 'r');
  } finally {
    lock.release();
  }

  let store: SqliteStore;
  try {
    store = new SqliteStore({
      path: dbPath,
      durability: 'full',
      acceptRestore: true,
      resumeAbove,
      // No anchor here that vouches: re-anchored on the record (or, for a backup that registered
      // none, recorded as a restore), numbered above what the operator gave.
      ...(!vouches && { reanchor: `restored from ${backup} where its head anchor was not; numbering resumes above revision ${resumeAbove}` }),
    });
  } catch (error) {
    putBack(dbPath, folder, replacedTo, anchorFile, anchorBefore);
    const where = replacedTo ? `the database that was there is back in place (${dbPath})` : `nothing is left at ${dbPath}`;
    throw new RestoreError(`${backup} was not restored: ${(error as Error).message}. The restored copy was removed, and ${where}`);
  }
  try {
    return {
      dbPath,
      revision,
      headHash: store.load().headHash,
      replacedTo,
      recorded: store.startup.restore,
      anchor: store.startup.anchor,
      reanchored: store.startup.reanchored && { revision: store.startup.reanchored.revision, problem: store.startup.reanchored.problem },
    };
  } finally {
    store.close();
  }
}

/** The id the anchor beside `dbPath` carries (undefined when it has none or cannot be read). */
function anchorIdOf(dbPath: string): string | undefined {
  let anchor: HeadAnchor | undefined;
  try {
    anchor = HeadAnchor.open(dbPath, false, true);
    return anchor.loaded?.id;
  } catch {
    return undefined;
  } finally {
    anchor?.close();
  }
}

/** Undoes a restore whose open failed: the copy goes, the replaced database and its anchor come back. */
function putBack(dbPath: string, folder: string, replacedTo: string | undefined, anchorFile: string, anchorBefore: Buffer | undefined): void {
  const lock = SingleWriterLock.acquire(dbPath);
  try {
    for (const suffix of DATABASE_FILES) rmSync(dbPath + suffix, { force: true });
    if (replacedTo) {
      for (const suffix of DATABASE_FILES) {
        if (existsSync(replacedTo + suffix)) renameSync(replacedTo + suffix, dbPath + suffix);
      }
    }
    if (anchorBefore) {
      writeFileSync(anchorFile, anchorBefore);
      fsyncPath(anchorFile, 'r+');
    } else rmSync(anchorFile, { force: true });
    fsyncPath(folder, 'r');
  } finally {
    lock.release();
  }
}
