// `devcompat restore <backup> --db <path>`: puts a backup (from `devcompat backup`, or any
// consistent copy such as `sqlite3 .backup`) in place of a stopped server's database, as one
// explicit, recorded act. Steps, each a precondition of the next:
//   1. the backup is a SQLite file, and no server holds the database (the single-writer lock
//      is taken, so a running server makes this fail at once, naming its pid);
//   2. the current database and its -wal/-shm are moved aside together (`<db>.replaced-<time>`,
//      never deleted: a WAL left beside the new file would be replayed into it);
//   3. the backup is copied to a temporary file beside the database, fsynced, renamed into
//      place, and the folder fsynced;
//   4. the store is opened once with acceptRestore, as `serve --accept-restore` would: when the
//      head anchor (`<db>.head`) has seen later revisions, the restore is recorded as a
//      revision above the highest the anchor saw (numbering never reuses a revision a client
//      may have seen), and the anchor follows the restored file. The newest history is
//      verified on the way (the start-up chain check).
// The server then starts on the restored file with no flag.

import { closeSync, copyFileSync, existsSync, fsyncSync, openSync, readSync, renameSync } from 'node:fs';
import path from 'node:path';
import { openDatabase } from './open-database.ts';
import { SingleWriterLock } from './single-writer-lock.ts';
import { SqliteStore } from './sqlite-store.ts';

export interface RestoreReport {
  readonly dbPath: string;
  /** The revision and head the restored file holds (before any restore revision). */
  readonly revision: number;
  readonly headHash: string;
  /** Where the replaced database went, if there was one. */
  readonly replacedTo: string | undefined;
  /** The restore revision recorded (the anchor had seen later revisions), if any. */
  readonly recorded: { readonly revision: number; readonly problem: string } | undefined;
  /** What the head anchor said: create (no anchor), match, advance or restore. */
  readonly anchor: string | undefined;
}

export class RestoreError extends Error {}

const SQLITE_HEADER = 'SQLite format 3\0';

function fsyncPath(file: string, flags: 'r' | 'r+'): void {
  const fd = openSync(file, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The last revision a backup holds (read-only, before it is put in place). */
function backupRevision(backup: string): number {
  const db = openDatabase(backup, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT COALESCE(MAX(revision), 0) AS revision FROM revisions').get() as { revision: number }).revision;
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

export function restoreDatabase(options: { backup: string; dbPath: string; now?: Date }): RestoreReport {
  const backup = path.resolve(options.backup);
  const dbPath = path.resolve(options.dbPath);
  if (backup === dbPath) throw new RestoreError(`${backup}: the backup is the database itself`);
  checkBackup(backup);
  const revision = backupRevision(backup);
  const folder = path.dirname(dbPath);
  if (!existsSync(folder)) throw new RestoreError(`the folder ${folder} does not exist`);

  let replacedTo: string | undefined;
  const lock = SingleWriterLock.acquire(dbPath);
  try {
    if (existsSync(dbPath)) {
      replacedTo = `${dbPath}.replaced-${(options.now ?? new Date()).toISOString().replace(/[:.]/g, '-')}`;
      for (const suffix of ['-wal', '-shm', '']) {
        if (existsSync(dbPath + suffix)) renameSync(dbPath + suffix, replacedTo + suffix);
      }
    }
    const temporary = `${dbPath}.restoring`;
    copyFileSync(backup, temporary);
    fsyncPath(temporary, 'r+');
    renameSync(temporary, dbPath);
    fsyncPath(folder, 'r');
  } finally {
    lock.release();
  }

  const store = new SqliteStore({ path: dbPath, durability: 'full', acceptRestore: true });
  try {
    return {
      dbPath,
      revision,
      headHash: store.load().headHash,
      replacedTo,
      recorded: store.startup.restore,
      anchor: store.startup.anchor,
    };
  } finally {
    store.close();
  }
}
