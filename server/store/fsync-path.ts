// fsync by path: what makes a file's bytes, or a name just created or renamed in a folder (fsync
// the folder), survive a power loss. Shared by the backup, the restore and the head anchor.

import { closeSync, fsyncSync, openSync } from 'node:fs';

/** fsyncs `file` (a folder is opened read-only: `r`; a file may need `r+` on some systems). */
export function fsyncPath(file: string, flags: 'r' | 'r+' = 'r'): void {
  const fd = openSync(file, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
