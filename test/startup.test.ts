// Start-up refusals: a database that a newer devcompat migrated, or whose recorded migration
// differs from the shipped one (an edited migration), is refused with an error naming the
// migration, and left as it was; `npm start` then logs the cause as fatal and exits 1, as it
// does when it cannot listen.

import test from 'ava';
import { openDatabase } from '../server/store/open-database.ts';
import path from 'node:path';
import { startServer } from '../server/server.ts';
import { readMigrations } from '../server/store/migrate.ts';
import { spawnWithOutput } from './helpers/cli.ts';
import { spawnServer } from './helpers/process.ts';
import { startTestServer, tempDir } from './helpers/server.ts';

/** A database a server created and wrote one host to, closed. */
async function existingDatabase(t: Parameters<typeof startTestServer>[0]): Promise<string> {
  const server = await startTestServer(t);
  await server.client.syncHost({ name: 'a', devices: [] } as any);
  await server.server.close();
  return server.dbPath;
}

function migrationsOf(dbPath: string): { version: number; name: string; checksum: string }[] {
  const db = openDatabase(dbPath, { readonly: true });
  try {
    return db.prepare('SELECT version, name, checksum FROM schema_migrations ORDER BY version').all() as any[];
  } finally {
    db.close();
  }
}

function edit(dbPath: string, sql: string): void {
  const db = openDatabase(dbPath);
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

/** Runs `npm start`'s entry point to its exit; returns the exit code and the parsed log lines. */
async function startProcess(args: string[]) {
  const child = spawnWithOutput(process.execPath, ['--import', 'tsx', 'server/main.ts', '--log-level', 'info', ...args]);
  const { code } = await child.exited;
  const lines = child.stdout.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, any>);
  return { code, lines, stderr: child.stderr.join('\n') };
}

test('a database migrated by a newer version is refused at start-up, and left untouched', async (t) => {
  const dbPath = await existingDatabase(t);
  edit(dbPath, "INSERT INTO schema_migrations VALUES (9999, 'from_the_future', 'abc', 1)");
  const before = migrationsOf(dbPath);

  const error = await t.throwsAsync(startServer({ dbPath, address: '127.0.0.1:0' }));
  t.regex(error!.message, /migration 9999 \(from_the_future\).*newer version/);
  t.deepEqual(migrationsOf(dbPath), before);

  const run = await startProcess(['--db', dbPath, '--address', '127.0.0.1:0']);
  t.is(run.code, 1, 'npm start exits 1');
  const fatal = run.lines.find((line) => line.level === 60);
  t.truthy(fatal, `a fatal line is logged: ${JSON.stringify(run.lines)} ${run.stderr}`);
  t.regex(fatal!.msg, /^devcompat cannot start: the database has migration 9999 \(from_the_future\)/);
  t.false(run.lines.some((line) => line.msg === 'devcompat serving'), 'it never served');
  t.deepEqual(migrationsOf(dbPath), before);
});

test('a database whose applied migration differs from the shipped one (an edited migration) is refused', async (t) => {
  const dbPath = await existingDatabase(t);
  // The recorded checksum is that of the text applied then; the shipped file now differs.
  edit(dbPath, "UPDATE schema_migrations SET checksum = 'edited' WHERE version = 2");

  const error = await t.throwsAsync(startServer({ dbPath, address: '127.0.0.1:0' }));
  t.regex(error!.message, /migration 2 \(leases_and_audit_chain\) differs from the one applied to this database/);

  const run = await startProcess(['--db', dbPath, '--address', '127.0.0.1:0']);
  t.is(run.code, 1);
  t.regex(run.lines.find((line) => line.level === 60)?.msg ?? run.stderr, /devcompat cannot start: migration 2 .*never be edited/);

  t.is(migrationsOf(dbPath).find((m) => m.version === 2)?.checksum, 'edited', 'the refusal changed nothing');

  // With the shipped checksum recorded again, the same file starts and still holds its host.
  const shipped = readMigrations().find((m) => m.version === 2)!;
  edit(dbPath, `UPDATE schema_migrations SET checksum = '${shipped.checksum}' WHERE version = 2`);
  const server = await startTestServer(t, { dbPath, dir: path.dirname(dbPath) });
  t.is((await server.client.getHost('hosts/a')).name, 'hosts/a');
});

test('npm start that cannot listen logs why and exits 1, releasing the database', async (t) => {
  const dir = tempDir(t);
  const db = path.join(dir, 'registry.db');
  const first = await spawnServer(['--db', path.join(dir, 'other.db'), '--address', '127.0.0.1:0']);
  t.teardown(() => void first.child.kill('SIGKILL'));

  const run = await startProcess(['--db', db, '--address', first.address]);
  t.is(run.code, 1);
  const fatal = run.lines.find((line) => line.level === 60);
  t.regex(fatal?.msg ?? run.stderr, new RegExp(`devcompat cannot start: cannot listen on ${first.address.replace(/\./g, '\\.')}`));

  // The refused start closed its database: another server opens it at once.
  const again = await startTestServer(t, { dbPath: db, dir });
  t.is((await again.client.listHostsPage({})).revision, '0');
});
