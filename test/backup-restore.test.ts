// Backups as files an operator can trust, and `devcompat restore` where it is needed most: onto
// a new machine or path, where the head anchor went with the old one, and when the open of the
// restored file fails. Real servers on real files, the real CLI process. (The same-path restore
// after writes went on, through the compiled build, is test/packaging-backup.test.ts.)

import test from 'ava';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, run } from './helpers/cli.ts';
import { execSql } from './helpers/db-file.ts';
import { startTestServer, tempDir } from './helpers/server.ts';

const host = (name: string, zone: string) => ({ name: `hosts/${name}`, labels: { zone }, devices: [] });
const restore = (...args: string[]) => run(process.execPath, [CLI, 'restore', ...args], { timeoutMs: 60_000 });
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** A registry with revisions 1-5, a backup of it at 5, then revisions 6-8; its server stopped. */
async function backedUp(t: Parameters<typeof tempDir>[0]) {
  const original = await startTestServer(t);
  for (let i = 0; i < 5; i++) await original.client.syncHost(host('a', `z${i}`));
  const backup = path.join(tempDir(t), 'backup.db');
  const taken = await original.client.backup(backup);
  for (let i = 5; i < 8; i++) await original.client.syncHost(host('a', `z${i}`));
  await original.server.close();
  return { original, backup, head: taken.head_hash };
}

test('onto a new path, where the head anchor is not: refused until --resume-above says which revisions clients saw; then recorded above it, and the server starts with no flag', async (t) => {
  const { backup, head } = await backedUp(t);
  const dir = tempDir(t);
  const db = path.join(dir, 'registry.db');

  const refused = await restore(backup, '--db', db);
  t.is(refused.code, 2, refused.stderr);
  t.regex(refused.stderr, /no head anchor at .*registry\.db\.head/);
  t.regex(refused.stderr, /Give --resume-above <revision>/);
  t.regex(refused.stderr, /The backup holds revision 5\. Nothing was changed/);
  t.deepEqual(readdirSync(dir), [], 'nothing was written');
  const bad = await restore(backup, '--db', db, '--resume-above', 'eight');
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--resume-above: "eight" is not a revision/);

  // The lost registry reached revision 8: the restore is recorded above it.
  const restored = await restore(backup, '--db', db, '--resume-above', '8');
  t.is(restored.code, 0, restored.stderr);
  t.regex(restored.stdout, /revision 5, head [0-9a-f]{64}/);
  t.regex(restored.stdout, /re-anchored here, recorded as revision 9 \(above --resume-above; the next write is 10\)/);
  t.true(existsSync(`${db}.head`), 'an anchor of its own from now on');
  t.false(existsSync(`${db}.restoring`));

  const served = await startTestServer(t, { dbPath: db, dir });
  t.is((await served.client.getHost('hosts/a')).labels.zone, 'z4', 'the registry as the backup held it');
  t.is((await served.client.syncHost(host('b', 'z'))).revision, '10', 'no revision a client may have seen is used again');
  const verified = await served.client.verifyHistory({ expectedHead: head });
  t.true(verified.intact, JSON.stringify(verified));
  const entries = [];
  for await (const entry of served.client.history({ order: 'HISTORY_ORDER_OLDEST_FIRST' })) entries.push(Number(entry.revision));
  t.deepEqual(entries, [1, 2, 3, 4, 5, 10], 'history: the backup, then the next write (the re-anchoring is a revision without entries)');
});

test('a restore whose open fails puts the database and its anchor back as they were, and says so', async (t) => {
  // A backup of y itself, but from a newer version of devcompat (a migration this one does not know).
  const y = await startTestServer(t);
  await y.client.syncHost(host('y-only', 'z'));
  const backup = path.join(tempDir(t), 'newer.db');
  await y.client.backup(backup);
  await y.server.close();
  execSql(backup, "INSERT INTO schema_migrations (version, name, checksum, applied_at_ms) VALUES (99, 'from_the_future', 'x', 0)");
  const before = { db: sha(y.dbPath), anchor: sha(`${y.dbPath}.head`), files: readdirSync(y.dir).sort() };

  const failed = await restore(backup, '--db', y.dbPath);
  t.is(failed.code, 2, failed.stdout);
  t.regex(failed.stderr, /was not restored: .*migration 99 \(from_the_future\), which this version of devcompat does not know/);
  t.regex(failed.stderr, /The restored copy was removed, and the database that was there is back in place/);
  t.is(sha(y.dbPath), before.db, 'the same database file');
  t.is(sha(`${y.dbPath}.head`), before.anchor, 'and the same anchor');
  t.deepEqual(readdirSync(y.dir).sort(), before.files, 'no copy, no moved-aside file left behind');

  const again = await y.restart();
  t.is((await again.client.getHost('hosts/y-only')).name, 'hosts/y-only', 'y starts with no flag and serves its own registry');
});

test('a backup is readable by the server\'s user only, and carries its name only once it is whole: a name being written is refused, and nothing is left of a refused one', async (t) => {
  const server = await startTestServer(t);
  await server.client.syncHost(host('a', 'z'));
  const dir = tempDir(t);
  const file = path.join(dir, 'copy.db');
  const taken = await server.client.backup(file);
  t.is(Number(taken.size_bytes), statSync(file).size);
  t.is(statSync(file).mode & 0o777, 0o600, 'it holds the whole registry');
  t.deepEqual(readdirSync(dir), ['copy.db'], 'no temporary file left');
  // A backup to the same name in progress (its temporary file is there): refused, and it is left alone.
  const second = path.join(dir, 'second.db');
  writeFileSync(`${second}.partial`, '');
  const busy = await t.throwsAsync(server.client.backup(second));
  t.regex(busy!.message, /second\.db\.partial exists: another backup to this name is being written, or one failed \(remove it\)/);
  t.false(existsSync(second));
  t.true(existsSync(`${second}.partial`));
});

test('onto a path where a server already ran a registry of its own, or from a backup that registered no anchor: refused without --resume-above, then numbered above it', async (t) => {
  const { backup } = await backedUp(t);
  // A fresh server ran at the new path first (the packaged unit starts at install): its own anchor is there.
  const fresh = await startTestServer(t);
  await fresh.client.syncHost(host('install-check', 'z'));
  await fresh.server.close();
  const refused = await restore(backup, '--db', fresh.dbPath);
  t.is(refused.code, 2, refused.stderr);
  t.regex(refused.stderr, /the head anchor at .*registry\.db\.head is not this registry's/);
  t.regex(refused.stderr, /Nothing was changed/);
  t.false(existsSync(`${fresh.dbPath}.restoring`), 'the copy made first is removed');
  const restored = await restore(backup, '--db', fresh.dbPath, '--resume-above', '8');
  t.is(restored.code, 0, restored.stderr);
  t.regex(restored.stdout, /re-anchored here, recorded as revision 9/);
  const served = await fresh.restart();
  t.is((await served.client.syncHost(host('b', 'z'))).revision, '10');
  await served.server.close();

  // A backup whose database registered no anchor yet (as one from before anchors were registered).
  const unregistered = path.join(tempDir(t), 'unregistered.db');
  writeFileSync(unregistered, readFileSync(backup));
  execSql(unregistered, 'UPDATE head_anchor SET anchor_id = NULL, anchor_path = NULL, since_revision = NULL');
  const dir = tempDir(t);
  const db = path.join(dir, 'registry.db');
  const refusedToo = await restore(unregistered, '--db', db);
  t.is(refusedToo.code, 2, refusedToo.stderr);
  t.regex(refusedToo.stderr, /there is no head anchor at/);
  const recorded = await restore(unregistered, '--db', db, '--resume-above', '8');
  t.is(recorded.code, 0, recorded.stderr);
  t.regex(recorded.stdout, /recorded as restore revision 9 /);
  const again = await startTestServer(t, { dbPath: db, dir });
  t.is((await again.client.syncHost(host('c', 'z'))).revision, '10', 'no revision number used again');
});

test('a restore refused because a server holds the database leaves nothing behind', async (t) => {
  const { backup } = await backedUp(t);
  const running = await startTestServer(t);
  const before = readdirSync(running.dir).sort();
  const refused = await restore(backup, '--db', running.dbPath, '--resume-above', '8');
  t.is(refused.code, 2, refused.stderr);
  t.regex(refused.stderr, /in use by another devcompat server/);
  t.deepEqual(readdirSync(running.dir).sort(), before, 'no copy left beside the database');
});
