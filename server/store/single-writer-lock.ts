// One server per database file. A second server on the same file would serve a stale copy of
// the state, fail its writes and see the other's commits as tampering; so the store takes an
// exclusive lock before it opens the database, and a second start fails at once naming the
// file and the holder's pid.
//
// The lock is an OS lock (SQLite's own POSIX lock on a small companion database,
// `<db>.lock`, held in `locking_mode=EXCLUSIVE` for the store's life), not a pid file: the
// kernel releases it when the holding process dies, so a crashed server never blocks its
// restart, and it works between threads of one process too (SQLite tracks its own locks per
// file). The database file itself stays unlocked, so a backup (`sqlite3 .backup`, VACUUM
// INTO) can still read it. The holder's pid is written beside it (`<db>.lock.pid`) for the
// error message only; it is never trusted to decide anything.

import type Database from 'better-sqlite3';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { openDatabase } from './open-database.ts';

export class DatabaseInUseError extends Error {
  constructor(
    readonly dbPath: string,
    readonly holderPid: number | undefined,
  ) {
    super(
      `the database ${dbPath} is in use by another devcompat server${holderPid ? ` (pid ${holderPid})` : ''}: ` +
        'one server per database file (stop the other server, or give this one another --db)',
    );
    this.name = 'DatabaseInUseError';
  }
}

export class SingleWriterLock {
  private constructor(
    private readonly db: Database.Database,
    private readonly pidPath: string,
  ) {}

  /** Takes the lock for `dbPath`, or throws DatabaseInUseError without waiting. */
  static acquire(dbPath: string): SingleWriterLock {
    const lockPath = `${dbPath}.lock`;
    const pidPath = `${lockPath}.pid`;
    const db = openDatabase(lockPath, { timeout: 0 });
    try {
      db.exec('PRAGMA locking_mode = EXCLUSIVE');
      // In exclusive mode the connection keeps every lock it took until it closes, and BEGIN
      // EXCLUSIVE takes the exclusive lock at once, whether the transaction then writes or not:
      // only the first start on a file writes (the table), so a start waits for no fsync here.
      // The table holds nothing now (versions before 1 Dec 2026 kept their pid in it); the
      // holder's pid is in `<db>.lock.pid`, which is what DatabaseInUseError reports.
      db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL); COMMIT');
    } catch (error) {
      db.close();
      if ((error as { code?: string }).code === 'SQLITE_BUSY') throw new DatabaseInUseError(dbPath, readPid(pidPath));
      throw error;
    }
    writeFileSync(pidPath, `${process.pid}\n`);
    return new SingleWriterLock(db, pidPath);
  }

  release(): void {
    if (!this.db.open) return;
    rmSync(this.pidPath, { force: true });
    this.db.close();
  }
}

function readPid(pidPath: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidPath, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
