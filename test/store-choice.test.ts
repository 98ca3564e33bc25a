// `--store` (DEVCOMPAT_STORE) and `--db` (DEVCOMPAT_DB): which store the server runs on, and
// the refusal of both at once (server/store/store-choice.ts, server/serve.ts).

import test from 'ava';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { chooseStore, parseStoreSpec, redact } from '../server/store/store-choice.ts';
import { spawnWithOutput } from './helpers/cli.ts';
import { tempDir } from './helpers/server.ts';

test('--store takes sqlite:PATH and postgres:// URLs; --db is the SQLite spelling; both at once is refused', (t) => {
  t.deepEqual(parseStoreSpec('sqlite:./data/x.db'), { kind: 'sqlite', path: './data/x.db' });
  t.deepEqual(parseStoreSpec('postgres://u@db.example/registry'), { kind: 'postgres', url: 'postgres://u@db.example/registry' });
  t.deepEqual(parseStoreSpec('postgresql://u@h:5433/r'), { kind: 'postgres', url: 'postgresql://u@h:5433/r' });
  t.deepEqual(chooseStore(undefined, undefined, './data/devcompat.db'), { kind: 'sqlite', path: './data/devcompat.db' });
  t.deepEqual(chooseStore(undefined, '/tmp/a.db', './d.db'), { kind: 'sqlite', path: '/tmp/a.db' });
  t.throws(() => chooseStore('sqlite:/tmp/b.db', '/tmp/a.db', './d.db'), { message: /either --store or --db/ });
  t.throws(() => parseStoreSpec('mysql://x'), { message: /--store must be sqlite:PATH or postgres:/ });
  t.throws(() => parseStoreSpec('sqlite:'), { message: /needs a path/ });
  // A password never reaches a message or a log line.
  t.is(redact('postgres://alice:s3cret@h/db'), 'postgres://alice:***@h/db');
  t.notRegex(String(t.throws(() => parseStoreSpec('mysql://alice:s3cret@h/db'))?.message), /s3cret/);
});

test('main.ts: --store sqlite:PATH creates and serves that file; --db with DEVCOMPAT_STORE exits 1 naming both', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'via-store.db');
  const served = spawnWithOutput(process.execPath, ['--import', 'tsx', 'server/main.ts', '--store', `sqlite:${file}`, '--address', '127.0.0.1:0']);
  t.teardown(() => served.child.kill('SIGKILL'));
  const line = await served.waitForLine((text) => text.includes('"msg":"devcompat serving"'));
  t.is(JSON.parse(line).db, file);
  t.true(existsSync(file));
  served.child.kill('SIGTERM');
  t.is((await served.exited).code, 0);

  const refused = spawnWithOutput(process.execPath, ['--import', 'tsx', 'server/main.ts', '--db', path.join(dir, 'a.db'), '--address', '127.0.0.1:0'], {
    env: { DEVCOMPAT_STORE: `sqlite:${path.join(dir, 'b.db')}` },
  });
  t.is((await refused.exited).code, 1);
  t.regex([...refused.stdout, ...refused.stderr].join('\n'), /either --store or --db/);
  t.false(existsSync(path.join(dir, 'a.db')));
  t.false(existsSync(path.join(dir, 'b.db')));
});
