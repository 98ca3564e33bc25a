// `devcompat store copy` between SQLite files, driven through the real CLI process where the
// behaviour is the CLI's: revisions without history (a re-anchoring's record, the database's
// own) are copied with their time, actor and reason, newest or not; a copy that fails part-way
// leaves its target marked, so that no server serves it as a registry and a rerun says how to
// clear it; the SQLite source must exist and is only read (a mistyped path creates nothing, a
// backup is copied with its bytes and its folder untouched); long copies report progress on
// stderr while stdout keeps the result. (SQLite to PostgreSQL: test/postgres/store-copy.test.ts.)

import test from 'ava';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { DevcompatClient, type SyncHostRequest } from '../client/client.ts';
import { startServer } from '../server/server.ts';
import { openDatabase } from '../server/store/open-database.ts';
import { copyStore } from '../server/store/store-copy.ts';
import { CLI, lines, run } from './helpers/cli.ts';
import { execSql } from './helpers/db-file.ts';
import { tempDir } from './helpers/server.ts';

const gpu = (version: string) => ({ vendor: 'nvidia', device_api: 'vfio-pci', type: 'a10', software_version: version });

/** Starts a server on `dbPath`, makes `writes` syncs, and stops it; resolves to its revision and head. */
async function write(dbPath: string, writes: number, options: { reanchor?: string; tag?: string } = {}) {
  const server = await startServer({ address: '127.0.0.1:0', dbPath, leaseTtlMs: 3_600_000, ...options });
  const client = new DevcompatClient({ address: server.address, actor: 'alice', reason: 'copy test' });
  try {
    for (let i = 0; i < writes; i++) {
      await client.syncHost({ name: `h${i % 3}`, devices: [{ device_id: 'gpu0', descriptor: gpu(`1.${i}.0`), labels: { tag: options.tag ?? '' } }] } as SyncHostRequest);
    }
    return { revision: server.registry.revision, head: server.registry.headHash };
  } finally {
    client.close();
    await server.close();
  }
}

/** A registry whose newest revision is a re-anchoring's record: written by the database, no history entry names it. */
async function reanchored(dbPath: string) {
  await write(dbPath, 3);
  rmSync(`${dbPath}.head`);
  return write(dbPath, 0, { reanchor: 'INC-7: anchor lost with the old disk' });
}

/** Every revisions row of a SQLite file, read-only. */
function revisionsOf(dbPath: string) {
  const db = openDatabase(dbPath, { readonly: true });
  try {
    return db.prepare('SELECT revision, time_ms, actor, reason FROM revisions ORDER BY revision').all() as { revision: number; time_ms: number; actor: string; reason: string }[];
  } finally {
    db.close();
  }
}

async function copyWithCli(from: string, to: string) {
  return run(process.execPath, [CLI, 'store', 'copy', from, to], { timeoutMs: 120_000 });
}

/** What a server started on `dbPath` serves: revision and head, and whether its chain verifies. */
async function served(dbPath: string) {
  const server = await startServer({ address: '127.0.0.1:0', dbPath, leaseTtlMs: 3_600_000 });
  try {
    const { registry } = server;
    return { revision: registry.revision, head: registry.headHash, hosts: registry.listHosts({ labels: {}, afterHostId: undefined, limit: 100 }).length, intact: (await registry.verifyHistory(undefined)).intact };
  } finally {
    await server.close();
  }
}

test('revisions without history (a re-anchoring\'s record) are copied with their time, actor and reason, the newest and one between', async (t) => {
  const dir = tempDir(t);
  const source = path.join(dir, 'source.db');
  const newest = await reanchored(source);
  t.is(newest.revision, 4);
  const record = revisionsOf(source).find((row) => row.revision === 4)!;
  t.like(record, { actor: 'devcompat' });
  t.regex(record.reason, /^re-anchored by .*INC-7/);

  // The record is the newest revision: the copy used to fail its final check, with the target full.
  const first = path.join(dir, 'first.db');
  const copied = await copyWithCli(`sqlite:${source}`, `sqlite:${first}`);
  t.is(copied.code, 0, copied.stderr);
  t.regex(copied.stdout, /^copied revision 4 .*head /);
  t.deepEqual(revisionsOf(first), revisionsOf(source));
  t.deepEqual(await served(first), { revision: 4, head: newest.head, hosts: 3, intact: true });

  // Writes after it: the record sits between revisions with history (the copy used to drop it and succeed).
  const later = await write(source, 2, { tag: 'later' });
  t.is(later.revision, 6);
  const second = path.join(dir, 'second.db');
  const again = await copyWithCli(`sqlite:${source}`, `sqlite:${second}`);
  t.is(again.code, 0, again.stderr);
  t.deepEqual(revisionsOf(second), revisionsOf(source), 'every revisions row, the re-anchoring\'s included');
  t.deepEqual(await served(second), { revision: 6, head: later.head, hosts: 3, intact: true });
});

test('a copy that fails part-way leaves its target marked: no server serves it, a rerun says how to clear it, and after clearing it the copy succeeds', async (t) => {
  const dir = tempDir(t);
  const source = path.join(dir, 'source.db');
  await write(source, 6);
  // A source the copy fails on after it has committed revisions 1 to 3: revision 4's row is gone, its history is not.
  const broken = path.join(dir, 'broken.db');
  await write(broken, 6);
  execSql(broken, 'PRAGMA foreign_keys = OFF; DELETE FROM revisions WHERE revision = 4');
  const target = path.join(dir, 'target.db');

  const failed = await copyWithCli(`sqlite:${broken}`, `sqlite:${target}`);
  t.not(failed.code, 0);
  t.regex(failed.stderr, /revision 4, which its revisions table lacks/);
  t.regex(failed.stderr, /left marked as an unfinished copy.*delete .*target\.db, .*target\.db-wal, .*target\.db-shm and .*target\.db\.head/);
  t.is(failed.stdout, '');
  t.true(revisionsOf(target).some((row) => row.revision === 3), 'history was committed before the failure');

  // A server refuses it, naming the copy and how to redo it, instead of serving an empty registry.
  const refused = await t.throwsAsync(startServer({ address: '127.0.0.1:0', dbPath: target }));
  t.regex(refused!.message, /the database .*target\.db holds an unfinished `devcompat store copy` \(store copy from sqlite:.*broken\.db, started .*\).*Refusing to use it\. To redo the copy, delete .*target\.db.*then run devcompat store copy <from> sqlite:.*target\.db again/);

  // A rerun is told the same, not merely that the target is not empty, and changes nothing.
  const before = revisionsOf(target);
  const rerun = await copyWithCli(`sqlite:${source}`, `sqlite:${target}`);
  t.not(rerun.code, 0);
  t.regex(rerun.stderr, /holds an unfinished `devcompat store copy`.*To redo the copy, delete/);
  t.deepEqual(revisionsOf(target), before);

  // Cleared as told, the copy succeeds and the server serves it.
  for (const suffix of ['', '-wal', '-shm', '.head']) rmSync(target + suffix, { force: true });
  const redone = await copyWithCli(`sqlite:${source}`, `sqlite:${target}`);
  t.is(redone.code, 0, redone.stderr);
  t.false(revisionsOf(target).some((row) => row.revision === 0), 'the mark is gone once the copy checked itself');
  t.like(await served(target), { revision: 6, hosts: 3, intact: true });
});

test('the SQLite source must exist: a mistyped path is refused by name, and nothing is created', async (t) => {
  const dir = tempDir(t);
  const typo = path.join(dir, 'data', 'devcompta.db');
  const target = path.join(dir, 'target.db');
  const result = await copyWithCli(`sqlite:${typo}`, `sqlite:${target}`);
  t.not(result.code, 0);
  t.is(result.stdout, '');
  t.true(result.stderr.includes(`the source ${typo} does not exist`), result.stderr);
  t.false(existsSync(path.join(dir, 'data')), 'neither the file nor its folder was created');
  t.deepEqual(readdirSync(dir), [], 'nor the target');
});

test('a SQLite source a server is running on is refused (its later writes would be lost); stopped, it is copied', async (t) => {
  const dir = tempDir(t);
  const source = path.join(dir, 'live.db');
  const target = path.join(dir, 'target.db');
  const server = await startServer({ address: '127.0.0.1:0', dbPath: source, leaseTtlMs: 3_600_000 });
  const client = new DevcompatClient({ address: server.address });
  await client.syncHost({ name: 'hosts/a', devices: [] } as SyncHostRequest);
  const refused = await copyWithCli(`sqlite:${source}`, `sqlite:${target}`);
  t.not(refused.code, 0);
  t.true(refused.stderr.includes(`the source ${source} is in use by a running devcompat server (pid ${process.pid})`), refused.stderr);
  t.false(existsSync(target), 'nothing was copied');
  client.close();
  await server.close();
  const copied = await copyWithCli(`sqlite:${source}`, `sqlite:${target}`);
  t.is(copied.code, 0, copied.stderr);
});

test('a backup is copied as it is: its bytes and its folder are unchanged, and the copy holds its revision and head', async (t) => {
  const dir = tempDir(t);
  const live = path.join(dir, 'live', 'registry.db');
  mkdirSync(path.dirname(live));
  const backups = path.join(dir, 'backups');
  mkdirSync(backups);
  const backup = path.join(backups, 'registry-backup.db');
  const server = await startServer({ address: '127.0.0.1:0', dbPath: live, leaseTtlMs: 3_600_000 });
  const client = new DevcompatClient({ address: server.address, actor: 'alice' });
  let taken: Awaited<ReturnType<DevcompatClient['backup']>>;
  try {
    for (let i = 0; i < 5; i++) await client.syncHost({ name: `h${i % 2}`, devices: [{ device_id: 'gpu0', descriptor: gpu(`3.${i}.0`) }] } as SyncHostRequest);
    taken = await client.backup(backup);
  } finally {
    client.close();
    await server.close();
  }
  const listing = readdirSync(backups);
  t.deepEqual(listing, ['registry-backup.db']);
  const digest = () => createHash('sha256').update(readFileSync(backup)).digest('hex');
  const bytes = digest();

  const target = path.join(dir, 'copy', 'registry.db');
  const copied = await copyWithCli(`sqlite:${backup}`, `sqlite:${target}`);
  t.is(copied.code, 0, copied.stderr);
  t.regex(copied.stdout, new RegExp(`^copied revision ${taken.revision} .*head ${taken.head_hash}`));
  t.deepEqual(readdirSync(backups), listing, 'no -wal, -shm, .lock or .head beside the backup');
  t.is(digest(), bytes, 'the backup is not modified (not switched to WAL)');
  t.like(await served(target), { revision: Number(taken.revision), head: taken.head_hash, hosts: 2, intact: true });
});

test('progress: a line every few seconds on stderr with the revision copied of the total; stdout holds only the result', async (t) => {
  const dir = tempDir(t);
  const source = path.join(dir, 'source.db');
  const { revision } = await write(source, 5);
  const seen: string[] = [];
  // Every revision reports when the interval is 0 (the CLI's is PROGRESS_EVERY_MS, 5 s).
  await copyStore(`sqlite:${source}`, `sqlite:${path.join(dir, 'copy.db')}`, { progress: (line) => seen.push(line), progressEveryMs: 0 });
  t.deepEqual(
    seen.filter((line) => line.startsWith('copied revision')).map((line) => /^copied revision (\d+) of (\d+) \(\d+ history entries\)$/.exec(line)?.slice(1)),
    [1, 2, 3, 4, 5].map((r) => [String(r), String(revision)]),
  );

  const cli = await copyWithCli(`sqlite:${source}`, `sqlite:${path.join(dir, 'cli.db')}`);
  t.is(cli.code, 0, cli.stderr);
  t.is(lines(cli.stdout).length, 1, 'stdout is the result alone');
});
