// What a server checks before it serves a database file (issue 10): one server per file (a
// second start fails at once, naming the file and the holder's pid, whether the holder made the
// lock's file or found it; a crashed holder blocks nothing); the head anchor beside the file catches a rolled-back or truncated database without
// any head kept by an operator, and an accepted restore resumes numbering above it; the newest
// history is verified; and a start-up failure always logs its real cause.

import test from 'ava';
import { openDatabase } from '../server/store/open-database.ts';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DevcompatClient } from '../client/client.ts';
import { startServer } from '../server/server.ts';
import { startupFailureCause } from '../server/startup-failure.ts';
import { failedStart, spawnServer } from './helpers/process.ts';
import { execSql } from './helpers/db-file.ts';
import { editHistory } from './helpers/history-edit.ts';
import { startTestServer, tempDir } from './helpers/server.ts';



const host = (name: string, zone: string) => ({ name: `hosts/${name}`, labels: { zone }, devices: [] });

test('a second server on the same file refuses to start, naming the file and the holder; a killed holder blocks nothing', async (t) => {
  const dir = tempDir(t);
  const db = path.join(dir, 'registry.db');
  // Leases that outlast the test: on a loaded machine its starts take long enough for a 30 s
  // lease to lapse, a revision of its own between the two syncs counted below.
  const first = await spawnServer(['--db', db, '--address', '127.0.0.1:0', '--lease-ttl', '1h']);
  t.teardown(() => void first.child.kill('SIGKILL'));
  const client = new DevcompatClient({ address: first.address });
  t.teardown(() => client.close());
  await client.syncHost(host('a', 'z1'));

  const second = await failedStart(['--db', db, '--address', '127.0.0.1:0']);
  t.is(second.code, 1);
  t.false(second.served);
  t.is(second.fatal, `devcompat cannot start: the database ${db} is in use by another devcompat server (pid ${first.child.pid}): one server per database file (stop the other server, or give this one another --db)`);
  // In-process too (threads of one process), and the first server is unharmed.
  const inProcess = await t.throwsAsync(startServer({ dbPath: db, address: '127.0.0.1:0' }));
  t.regex(inProcess!.message, /is in use by another devcompat server \(pid \d+\)/);
  t.is((await client.syncHost(host('b', 'z1'))).revision, '2', 'the first server still writes');

  // The database file itself is not locked: a backup reads it while the server runs.
  const backup = path.join(dir, 'backup.db');
  execSql(db, `VACUUM INTO '${backup}'`);
  t.is((openDatabase(backup, { readonly: true }).prepare('SELECT COUNT(*) AS n FROM hosts').get() as { n: number }).n, 2);

  // A crashed holder's lock is the kernel's to release: a restart on the file starts at once.
  first.child.kill('SIGKILL');
  await first.exited;
  const again = await startTestServer(t, { dbPath: db, dir });
  t.is((await again.client.getHost('hosts/b')).name, 'hosts/b');
  // That restart found the lock's file already made (it wrote nothing to take the lock): it
  // holds the lock all the same, against another process and another thread.
  const third = await failedStart(['--db', db, '--address', '127.0.0.1:0']);
  t.is(third.code, 1);
  t.regex(third.fatal ?? '', /is in use by another devcompat server \(pid \d+\)/);
  await t.throwsAsync(startServer({ dbPath: db, address: '127.0.0.1:0' }), { message: /is in use by another devcompat server/ });
  t.is((await again.client.getHost('hosts/b')).name, 'hosts/b', 'the restarted server still serves');
});

test('a deleted history tail is refused at start-up without --expect-head; an accepted restore is recorded and never reuses a revision', async (t) => {
  const first = await startTestServer(t);
  for (let i = 0; i < 5; i++) await first.client.syncHost(host('a', `z${i}`));
  await first.server.close();
  // Behind the server's back: revisions 4 and 5 and their entries are gone.
  execSql(first.dbPath, 'DELETE FROM history WHERE revision > 3; DELETE FROM revisions WHERE revision > 3');

  const refused = await failedStart(['--db', first.dbPath, '--address', '127.0.0.1:0']);
  t.is(refused.code, 1);
  t.regex(refused.fatal ?? '', /^devcompat cannot start: the database .*registry\.db is at revision 3, behind its head anchor at revision 5: it was rolled back .* or the tail of its history was deleted\. Refusing to start\. .*--accept-restore/);

  // Only history deleted (the revisions kept): the chain no longer reaches the anchored head.
  const other = await startTestServer(t);
  for (let i = 0; i < 3; i++) await other.client.syncHost(host('a', `z${i}`));
  await other.server.close();
  execSql(other.dbPath, 'DELETE FROM history WHERE revision = 3');
  const offChain = await t.throwsAsync(startServer({ dbPath: other.dbPath, address: '127.0.0.1:0' }));
  t.regex(offChain!.message, /at revision 3 ends in .*, not in the anchored head .*: history entries were deleted or rewritten/);

  // The operator accepts the first file as a restore: it serves, the restore is logged loudly
  // and recorded as revision 6, and the next write is 7: 4 and 5 are never given again.
  const restored = await spawnServer(['--db', first.dbPath, '--address', '127.0.0.1:0', '--accept-restore']);
  t.teardown(() => void restored.child.kill('SIGKILL'));
  const warning = restored.stdout.map((line) => JSON.parse(line)).find((line) => line.level === 40);
  t.regex(warning?.msg ?? '', /^RESTORE ACCEPTED: the database .* is at revision 3, behind its head anchor at revision 5.*recorded as revision 6/);
  const client = new DevcompatClient({ address: restored.address });
  t.teardown(() => client.close());
  t.is((await client.syncHost(host('a', 'after-restore'))).revision, '7');
  restored.child.kill('SIGTERM');
  await restored.exited;
  const recorded = openDatabase(first.dbPath, { readonly: true });
  t.teardown(() => recorded.close());
  t.like(recorded.prepare('SELECT * FROM revisions WHERE revision = 6').get(), { actor: 'devcompat' });
  t.regex((recorded.prepare('SELECT reason FROM revisions WHERE revision = 6').get() as { reason: string }).reason, /^restore accepted: /);

  // Restarted without the flag, the restored file is the anchored one now.
  const next = await startTestServer(t, { dbPath: first.dbPath, dir: first.dir });
  t.is((await next.client.listHostsPage({})).revision, '7');
});

test('a database rolled back to a backup copy is refused; a crash between the commit and the anchor write is not', async (t) => {
  const first = await startTestServer(t);
  await first.client.syncHost(host('a', 'z1'));
  const backup = path.join(first.dir, 'backup.db');
  execSql(first.dbPath, `VACUUM INTO '${backup}'`);
  const anchorAtBackup = readFileSync(`${first.dbPath}.head`);
  await first.client.syncHost(host('a', 'z2'));
  await first.client.syncHost(host('b', 'z2'));
  await first.server.close();

  // A crash after SQLite committed but before the anchor was rewritten leaves the anchor
  // behind on the same chain: accepted, and re-anchored.
  const current = readFileSync(`${first.dbPath}.head`);
  writeFileSync(`${first.dbPath}.head`, anchorAtBackup);
  const afterCrash = await startTestServer(t, { dbPath: first.dbPath, dir: first.dir });
  t.is((await afterCrash.client.getHost('hosts/b')).labels.zone, 'z2');
  await afterCrash.server.close();
  t.deepEqual(readFileSync(`${first.dbPath}.head`), current, 'the anchor caught up with the file');

  // The file replaced by the older backup (its WAL gone with it): refused.
  copyFileSync(backup, first.dbPath);
  execSql(first.dbPath, 'PRAGMA wal_checkpoint(TRUNCATE)');
  const refused = await t.throwsAsync(startServer({ dbPath: first.dbPath, address: '127.0.0.1:0' }));
  t.regex(refused!.message, /is at revision 1, behind its head anchor at revision 3/);

  // A torn or edited anchor is not trusted either.
  writeFileSync(`${first.dbPath}.head`, current.toString('utf8').replace('"revision":3', '"revision":1'));
  const edited = await t.throwsAsync(startServer({ dbPath: first.dbPath, address: '127.0.0.1:0' }));
  t.regex(edited!.message, /head anchor .*\.head fails its checksum/);
});

test('corruption of recent history is found at start-up; --startup-check 0 lets an operator in to inspect it', async (t) => {
  const first = await startTestServer(t);
  for (let i = 0; i < 4; i++) await first.client.syncHost(host('a', `z${i}`));
  await first.server.close();
  t.true(editHistory(first.dbPath, "UPDATE history_entries SET reason = 'forged' WHERE revision = 3") > 0);

  const refused = await failedStart(['--db', first.dbPath, '--address', '127.0.0.1:0']);
  t.is(refused.code, 1);
  t.regex(refused.fatal ?? '', /^devcompat cannot start: the history in .* is corrupt: ALTERED at revision 3 index 0: .*hosts\/a.*altered\. Refusing to start/);

  // A check of the newest entry only does not reach revision 3.
  const narrow = await startTestServer(t, { dbPath: first.dbPath, dir: first.dir, startupChainCheck: 1 });
  await narrow.server.close();
  const inspected = await startTestServer(t, { dbPath: first.dbPath, dir: first.dir, startupChainCheck: 0 });
  const verified = await inspected.client.verifyHistory();
  t.like(verified, { intact: false, problem: 'CHAIN_PROBLEM_ALTERED', revision: '3' });
});

test('a failed migration logs its real cause, naming the migration', async (t) => {
  const dir = tempDir(t);
  const db = path.join(dir, 'registry.db');
  execSql(db, 'CREATE TABLE hosts (x)');
  const run = await failedStart(['--db', db, '--address', '127.0.0.1:0']);
  t.is(run.code, 1);
  t.is(run.fatal, 'devcompat cannot start: migration 0001_initial failed (nothing of it was applied): table hosts already exists');
});

test('the cause of a start-up failure is words, whatever was thrown', (t) => {
  t.is(startupFailureCause(new Error('disk on fire')), 'disk on fire');
  t.is(startupFailureCause(new Error('wrapper: inner', { cause: new Error('inner') })), 'wrapper: inner');
  t.is(startupFailureCause(new Error('open failed', { cause: new Error('EACCES') })), 'open failed: EACCES');
  t.is(startupFailureCause(Object.assign(new Error(''), { name: 'AbortError' })), 'AbortError');
  t.is(startupFailureCause(undefined), 'an unknown error (undefined was thrown)');
  t.is(startupFailureCause('plain text'), 'plain text');
  t.is(startupFailureCause({ code: 42 }), 'a thrown { code: 42 }');
  t.notRegex(startupFailureCause(null), /undefined/);
});
