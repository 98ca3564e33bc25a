// Online backup of the SQLite file: `VACUUM INTO` a new file, on the storage worker's own
// connection. The worker runs one call at a time, so the copy is taken between two commits
// and holds exactly the revision and head the store had then (the caller reads both in the
// same call); writes queue behind it for as long as the copy takes. It needs no second
// connection, so it works next to the single-writer lock, and the copy comes out compact
// (free pages dropped) in rollback-journal mode, ready to be put in place by `devcompat
// restore`. The copy is fsynced, and its folder, before the call answers: an acknowledged
// backup is on disk. It is written under a temporary name and is the server user's only.
//
// (better-sqlite3's backup() API copies page by page between steps, letting writes interleave,
// so the copy's revision would not be known; and it is refused on Node 24, see open-database.ts.)

import { closeSync, existsSync, linkSync, openSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { invalidArgument, unavailable } from '../core/errors.ts';
import { fsyncPath } from './fsync-path.ts';

/**
 * Copies the database into `destination` (absolute, new, in an existing folder); returns its
 * size. The copy is written as `<destination>.partial`, created empty and readable by the
 * server's user only (it holds the whole registry), then fsynced and linked to its name: a
 * copy that failed half-way (a full disk, a crash) never carries the name of a backup, and the
 * partial file is removed on an error. A file at `destination` is never overwritten.
 */
export function vacuumInto(db: Database.Database, destination: string): number {
  const refuse = (description: string) => invalidArgument([{ field: 'path', description }]);
  if (!path.isAbsolute(destination)) throw refuse(`"${destination}" is not an absolute path on the server's host`);
  if (existsSync(destination)) throw refuse(`${destination} exists: a backup never overwrites a file`);
  const folder = path.dirname(destination);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw refuse(`the folder ${folder} does not exist on the server's host`);
  const partial = `${destination}.partial`;
  try {
    // Empty, so VACUUM INTO takes it; 'wx': another backup writing this name now is refused.
    closeSync(openSync(partial, 'wx', 0o600));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw refuse(`${partial} exists: another backup to this name is being written, or one failed (remove it)`);
    throw refuse(`cannot write in ${folder} on the server's host: ${(error as Error).message}`);
  }
  try {
    db.prepare('VACUUM INTO ?').run(partial);
    fsyncPath(partial, 'r+');
    linkSync(partial, destination);
    rmSync(partial);
    fsyncPath(folder, 'r');
  } catch (error) {
    rmSync(partial, { force: true });
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw refuse(`${destination} exists: a backup never overwrites a file`);
    throw unavailable(`the backup to ${destination} failed, and nothing is left of it: ${(error as Error).message}`);
  }
  return statSync(destination).size;
}
