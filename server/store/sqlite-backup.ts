// Online backup of the SQLite file: `VACUUM INTO` a new file, on the storage worker's own
// connection. The worker runs one call at a time, so the copy is taken between two commits
// and holds exactly the revision and head the store had then (the caller reads both in the
// same call); writes queue behind it for as long as the copy takes. It needs no second
// connection, so it works next to the single-writer lock, and the copy comes out compact
// (free pages dropped) in rollback-journal mode, ready to be put in place by `devcompat
// restore`. The copy is fsynced, and its folder, before the call answers: an acknowledged
// backup is on disk.
//
// (better-sqlite3's backup() API copies page by page between steps, letting writes interleave,
// so the copy's revision would not be known; and it is refused on Node 24, see open-database.ts.)

import { closeSync, existsSync, fsyncSync, openSync, statSync } from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { invalidArgument } from '../core/errors.ts';

/** Copies the database into `destination` (absolute, new, in an existing folder); returns its size. */
export function vacuumInto(db: Database.Database, destination: string): number {
  const refuse = (description: string) => invalidArgument([{ field: 'path', description }]);
  if (!path.isAbsolute(destination)) throw refuse(`"${destination}" is not an absolute path on the server's host`);
  if (existsSync(destination)) throw refuse(`${destination} exists: a backup never overwrites a file`);
  const folder = path.dirname(destination);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw refuse(`the folder ${folder} does not exist on the server's host`);
  try {
    db.prepare('VACUUM INTO ?').run(destination);
  } catch (error) {
    throw refuse(`cannot write ${destination}: ${(error as Error).message}`);
  }
  for (const [file, flags] of [[destination, 'r+'], [folder, 'r']] as const) {
    const fd = openSync(file, flags);
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  return statSync(destination).size;
}
