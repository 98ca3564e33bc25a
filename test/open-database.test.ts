// SQLite on every supported Node: better-sqlite3 objects the garbage collector frees must not
// abort the process (they do on Node 24 unless they live until the thread exits, see
// server/store/open-database.ts), and the calls that would make such objects behind our back
// are refused with a message saying what to use instead.

import test from 'ava';
import path from 'node:path';
import { openDatabase } from '../server/store/open-database.ts';
import { REPO_ROOT, run } from './helpers/cli.ts';
import { tempDir } from './helpers/server.ts';

test('databases and statements that are used, closed and dropped survive garbage collection', async (t) => {
  const script = path.join(REPO_ROOT, 'test/fixtures/runtime/sqlite-garbage.ts');
  const result = await run(process.execPath, ['--import', 'tsx', script], { timeoutMs: 60_000 });
  t.is(result.signal, null, result.stderr);
  t.is(result.code, 0, result.stderr);
  t.is(result.stdout, 'survived\n');
});

test('pragma(), backup() and a statement\'s iterate() are refused: they make native objects that cannot be kept alive', (t) => {
  const dir = tempDir(t);
  const db = openDatabase(path.join(dir, 'refused.db'));
  t.teardown(() => db.close());
  t.throws(() => db.pragma('journal_mode = WAL'), { message: /use exec\('PRAGMA \.\.\.'\)/ });
  t.throws(() => db.backup(path.join(dir, 'copy.db')), { message: /VACUUM INTO/ });
  t.throws(() => db.prepare('SELECT 1').iterate(), { message: /page with all\(\) and LIMIT/ });
  db.exec('PRAGMA user_version = 7');
  t.is(db.prepare('PRAGMA user_version').pluck().get(), 7, 'pragmas work through exec and prepare');
  db.exec(`VACUUM INTO '${path.join(dir, 'copy.db')}'`);
  const copy = openDatabase(path.join(dir, 'copy.db'), { fileMustExist: true });
  t.teardown(() => copy.close());
  t.is(copy.prepare('PRAGMA user_version').pluck().get(), 7, 'the suggested copy works');
});
