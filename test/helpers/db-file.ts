// A database file edited or read behind the server's back, as an attacker or an operator with a
// shell would: each call opens the file through openDatabase() (see open-database.ts) and
// closes it again, so no connection outlives the edit.

import { openDatabase } from '../../server/store/open-database.ts';

/** Runs SQL statements on the file. */
export function execSql(dbPath: string, text: string): void {
  const db = openDatabase(dbPath, { timeout: 5000 });
  try {
    db.exec(text);
  } finally {
    db.close();
  }
}

/** The first row of a query on the file, opened read-only. */
export function queryRow<T>(dbPath: string, text: string): T {
  const db = openDatabase(dbPath, { readonly: true });
  try {
    return db.prepare(text).get() as T;
  } finally {
    db.close();
  }
}
