// `devcompat watch`, `hosts drain|undrain`, `history` filters, point-in-time reads and
// `audit verify|compact` as an operator runs them, against real servers. The serial tests
// share one registry and build on what the previous ones left; the audit tests that tamper
// with or compact a database get their own.

import test, { type ExecutionContext } from 'ava';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startServer } from '../server/server.ts';
import { CLI, devcompat, fixture, jsonLines, lines, spawnWithOutput, startSharedServer, type ProcessResult } from './helpers/cli.ts';
import { editHistory } from './helpers/history-edit.ts';
import { tempDir } from './helpers/server.ts';

const GVT_A = 'hosts/gvt-a/devices/0000:00:02.0';
const GVT_B = 'hosts/gvt-b/devices/0000:00:02.0';

let shared: Awaited<ReturnType<typeof startSharedServer>>;
const cli = (...args: string[]) => devcompat(shared.address, args);

test.before(async () => {
  // No agent sends keepalives here: a lease lapsing in a slow run would add revisions.
  shared = await startSharedServer({ leaseTtlMs: 3_600_000 });
});

test.after.always(async () => {
  await shared?.close();
});

/** Table rows (header excluded) split on runs of two or more spaces. */
const rowsOf = (stdout: string) =>
  lines(stdout)
    .slice(1)
    .map((line) => line.split(/\s{2,}/));

/** Exit 0 and nothing on stderr. */
function ok(t: ExecutionContext, result: ProcessResult): ProcessResult {
  t.is(result.code, 0, `exit code; stderr: ${result.stderr}`);
  t.is(result.stderr, '');
  return result;
}

/** Exit 2, nothing on stdout, one line on stderr; returns the line. */
function oneErrorLine(t: ExecutionContext, result: ProcessResult): string {
  t.is(result.code, 2, `exit code; stdout: ${result.stdout}`);
  t.is(result.stdout, '');
  t.is(lines(result.stderr).length, 1, result.stderr);
  return result.stderr.trimEnd();
}

/** A watch line: revision, change, resource, actor, then the reason (which may hold spaces). */
const watchFields = (line: string) => {
  const match = /^(\d+)\s+(\S+)\s+(\S+)\s+(\S+)(?:\s+(.*))?$/.exec(line);
  return match ? [match[1], match[2], match[3], match[4], match[5] ?? ''] : [line];
};

test.serial('hosts drain marks a host DRAINING in hosts list and get, with --reason recorded in history', async (t) => {
  ok(t, await cli('--actor', 'alice', '--reason', 'rack 4 install', 'sync', 'gvt-a', fixture('gvt-host.json')));
  ok(t, await cli('--actor', 'bob', 'sync', 'gvt-b', fixture('gvt-host-newer.json')));

  const drained = ok(t, await cli('--actor', 'carol', 'hosts', 'drain', 'gvt-b', '--reason', 'firmware update'));
  t.is(drained.stdout, 'hosts/gvt-b: draining at revision 3\n');
  const again = ok(t, await cli('hosts', 'drain', 'hosts/gvt-b'));
  t.is(again.stdout, 'hosts/gvt-b: already draining (unchanged at revision 3)\n');

  const list = ok(t, await cli('hosts', 'list'));
  t.deepEqual(lines(list.stdout)[0].split(/\s{2,}/), ['HOST', 'STATE', 'DEVICES', 'REVISION', 'LAST SYNC', 'LABELS']);
  t.deepEqual(
    rowsOf(list.stdout).map((row) => row.slice(0, 4)),
    [
      ['hosts/gvt-a', 'READY', '1', '1'],
      ['hosts/gvt-b', 'DRAINING', '1', '3'],
    ],
  );
  t.deepEqual(rowsOf(ok(t, await cli('hosts', 'get', 'gvt-b')).stdout).map((row) => row.slice(0, 2)), [['hosts/gvt-b', 'DRAINING']]);
  t.like(JSON.parse(ok(t, await cli('--json', 'hosts', 'get', 'gvt-b')).stdout), {
    name: 'hosts/gvt-b',
    state: 'HOST_STATE_DRAINING',
    draining: true,
  });

  const history = ok(t, await cli('history', 'gvt-b'));
  t.deepEqual(lines(history.stdout)[0].split(/\s+/), ['REVISION', 'TIME', 'CHANGE', 'RESOURCE', 'ACTOR', 'WHAT', 'REASON']);
  const [latest] = rowsOf(history.stdout);
  t.deepEqual(latest.slice(2), ['UPDATED', 'hosts/gvt-b', 'carol', 'state READY -> DRAINING', 'firmware update']);

  // A reason travels as request metadata: printable ASCII only, refused before anything is sent.
  t.is(
    oneErrorLine(t, await cli('--reason', 'mise à jour', 'hosts', 'drain', 'gvt-a')),
    'devcompat: INVALID_ARGUMENT: x-devcompat-reason: must be printable ASCII and at most 1024 characters',
  );
  t.deepEqual(rowsOf(ok(t, await cli('hosts', 'get', 'gvt-a')).stdout).map((row) => row[1]), ['READY']);
});

test.serial('find leaves draining hosts out unless --include-draining, and says so', async (t) => {
  const without = await cli('find', GVT_A);
  t.is(without.code, 1, without.stderr);
  t.false(without.stdout.includes(GVT_B));
  t.regex(without.stdout, /0 compatible/);

  const withDraining = ok(t, await cli('find', GVT_A, '--include-draining'));
  const row = lines(withDraining.stdout).find((line) => line.includes(GVT_B));
  t.truthy(row, withDraining.stdout);
  t.regex(row!, /^1\s+hosts\/gvt-b\/devices\/0000:00:02\.0\s+COMPATIBLE\s+no\s+8\/8\s+host DRAINING$/);
  const json = jsonLines(ok(t, await cli('--json', 'find', GVT_A, '--include-draining', '--include-unreachable')).stdout);
  t.is(json[0].target.hostState, 'HOST_STATE_DRAINING');
});

test.serial('watch --from --until prints one line per event, with actor and reason, then exits 0', async (t) => {
  const watch = ok(t, await cli('watch', '--from', '1', '--until', '3'));
  const [header, ...events] = lines(watch.stdout);
  t.deepEqual(header.split(/\s+/), ['REVISION', 'CHANGE', 'RESOURCE', 'ACTOR', 'REASON']);
  t.deepEqual(events.map(watchFields), [
    ['1', 'CREATED', 'hosts/gvt-a', 'alice', 'rack 4 install'],
    ['1', 'CREATED', GVT_A, 'alice', 'rack 4 install'],
    ['2', 'CREATED', 'hosts/gvt-b', 'bob', ''],
    ['2', 'CREATED', GVT_B, 'bob', ''],
    ['3', 'UPDATED', 'hosts/gvt-b', 'carol', 'firmware update'],
  ]);
});

test.serial('watch --json prints every message as one proto-JSON line; --host filters; progress reaches --until', async (t) => {
  const watch = ok(t, await cli('--json', 'watch', '--from', '1', '--until', '3', '--host', 'gvt-a', '--progress-interval', '100'));
  const messages = jsonLines(watch.stdout);
  t.like(messages[0], { created: true, revision: '3', oldestRevision: '1' });
  // proto3 JSON leaves out fields at their defaults: `created: false`, `progress: false`, `leftFilter: false`.
  t.like(messages[1], { revision: '1' });
  t.false('created' in messages[1] || 'progress' in messages[1]);
  t.deepEqual(
    messages[1].events.map((e: any) => [e.kind, e.resource, e.actor, e.reason, e.leftFilter ?? false]),
    [
      ['CHANGE_KIND_CREATED', 'hosts/gvt-a', 'alice', 'rack 4 install', false],
      ['CHANGE_KIND_CREATED', GVT_A, 'alice', 'rack 4 install', false],
    ],
  );
  t.regex(messages[1].headHash, /^[0-9a-f]{64}$/);
  // Revisions 2 and 3 are about gvt-b: a progress message tells the watch it is at 3.
  t.like(messages.at(-1), { progress: true, revision: '3' });
  t.false('events' in messages.at(-1));
  t.is(messages.length, 3);
});

test.serial('a live watch prints changes as they happen and exits 0 on SIGTERM and SIGINT', async (t) => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const watch = spawnWithOutput(process.execPath, [CLI, '--address', shared.address, 'watch']);
    t.teardown(() => void watch.child.kill('SIGKILL'));
    await watch.waitForLine((line) => line.startsWith('REVISION'));
    const undrained = ok(t, await cli('--reason', `back (${signal})`, 'hosts', signal === 'SIGTERM' ? 'undrain' : 'drain', 'gvt-b'));
    const revision = /at revision (\d+)/.exec(undrained.stdout)![1];
    const line = await watch.waitForLine((text) => text.startsWith(`${revision} `));
    t.deepEqual(watchFields(line), [revision, 'UPDATED', 'hosts/gvt-b', 'anonymous', `back (${signal})`]);
    watch.child.kill(signal);
    const exited = await watch.exited;
    t.deepEqual(exited, { code: 0, signal: null }, `${signal}: ${watch.stderr.join('\n')}`);
    t.deepEqual(watch.stderr.filter((text) => text !== ''), []);
  }
  ok(t, await cli('hosts', 'undrain', 'gvt-b'));
});

test.serial('history filters by host, device, actor, revision range and time; --json shows reason, index and hash', async (t) => {
  const all = jsonLines(ok(t, await cli('--json', 'history', '--oldest-first')).stdout);
  t.deepEqual(
    all.map((e) => [e.revision, e.index ?? 0, e.resource]),
    [
      ['1', 0, 'hosts/gvt-a'],
      ['1', 1, GVT_A],
      ['2', 0, 'hosts/gvt-b'],
      ['2', 1, GVT_B],
      ['3', 0, 'hosts/gvt-b'],
      ['4', 0, 'hosts/gvt-b'],
      ['5', 0, 'hosts/gvt-b'],
      ['6', 0, 'hosts/gvt-b'],
    ],
  );
  t.true(all.every((e) => /^[0-9a-f]{64}$/.test(e.hash)));
  t.is(new Set(all.map((e) => e.hash)).size, all.length, 'one link per entry');
  t.deepEqual(all.map((e) => e.reason ?? '').slice(0, 5), ['rack 4 install', 'rack 4 install', '', '', 'firmware update']); // no reason: left out

  const resources = async (...args: string[]) => rowsOf(ok(t, await cli('history', '--oldest-first', ...args)).stdout).map((row) => `${row[0]} ${row[3]}`);
  t.deepEqual(await resources('gvt-a'), ['1 hosts/gvt-a', `1 ${GVT_A}`]);
  t.deepEqual(await resources(GVT_B), [`2 ${GVT_B}`]);
  t.deepEqual(await resources('--actor', 'carol'), ['3 hosts/gvt-b']);
  t.deepEqual(await resources('--from-revision', '2', '--to-revision', '3'), ['2 hosts/gvt-b', `2 ${GVT_B}`, '3 hosts/gvt-b']);
  const timeOf = (revision: string) => {
    return Date.parse(all.find((e) => e.revision === revision).time); // RFC 3339
  };
  // --since is inclusive, --until exclusive.
  const since = new Date(timeOf('2')).toISOString();
  const until = new Date(timeOf('4')).toISOString();
  t.deepEqual(await resources('--since', since, '--until', until), ['2 hosts/gvt-b', `2 ${GVT_B}`, '3 hosts/gvt-b']);
  t.is(oneErrorLine(t, await cli('history', '--since', 'yesterday')), 'devcompat: error: --since takes an ISO 8601 time, got "yesterday"');
});

test.serial('--as-of-revision and --as-of-time read devices and verdicts as they were', async (t) => {
  ok(t, await cli('sync', 'gvt-a', fixture('gvt-host-older.json')));
  const version = (stdout: string) => rowsOf(stdout)[0][4];
  t.is(version(ok(t, await cli('devices', 'get', GVT_A)).stdout), '1.1.3');
  t.is(version(ok(t, await cli('devices', 'get', GVT_A, '--as-of-revision', '2')).stdout), '1.2.0');
  const history = jsonLines(ok(t, await cli('--json', 'history', GVT_A, '--oldest-first')).stdout);
  const created = history[0].time;
  const atCreation = new Date(created).toISOString();
  t.is(version(ok(t, await cli('devices', 'get', GVT_A, '--as-of-time', atCreation)).stdout), '1.2.0');

  const listed = ok(t, await cli('devices', 'list', '--as-of-revision', '1'));
  t.deepEqual(rowsOf(listed.stdout).map((row) => [row[0], row[4]]), [[GVT_A, '1.2.0']]);

  // A VM still on gvt-a's old descriptor (saved from a point-in-time read) may no longer go
  // back to gvt-a, which was downgraded; at revision 2 it could.
  const old = JSON.parse(ok(t, await cli('--json', 'devices', 'get', GVT_A, '--as-of-revision', '2')).stdout);
  const vm = path.join(shared.dir, 'vm-at-revision-2.json');
  writeFileSync(vm, JSON.stringify(old.descriptor));
  const now = await cli('check', vm, GVT_A);
  t.is(now.code, 1, now.stderr);
  t.regex(now.stdout, /^VERDICT_INCOMPATIBLE .*\nrevision 7,/);
  t.regex(now.stdout, /software_version\s+SEMVER\s+FAIL\s+MINOR_VERSION_DOWNGRADE/);
  const then = ok(t, await cli('check', vm, GVT_A, '--as-of-revision', '2'));
  t.regex(then.stdout, /^VERDICT_COMPATIBLE .*\nrevision 2,/);
  const thenJson = JSON.parse(ok(t, await cli('--json', 'check', vm, GVT_A, '--as-of-time', atCreation)).stdout);
  t.like(thenJson, { verdict: 'VERDICT_COMPATIBLE', revision: '1' });

  const targets = (stdout: string) => lines(stdout).filter((line) => /^\d+\s+hosts\//.test(line)).map((line) => line.split(/\s+/)[1]);
  t.deepEqual(targets(ok(t, await cli('find', vm)).stdout), [GVT_B]);
  const foundThen = ok(t, await cli('find', vm, '--as-of-revision', '2'));
  t.deepEqual(targets(foundThen.stdout), [GVT_A, GVT_B], 'the exact match first');
  t.regex(foundThen.stdout, /compatible, 0 rejected, at revision 2\n$/);

  t.is(
    oneErrorLine(t, await cli('devices', 'get', GVT_A, '--as-of-revision', '1', '--as-of-time', atCreation)),
    'devcompat: error: give at most one of --as-of-revision and --as-of-time',
  );
});

test.serial('audit verify: exit 0 and one line when intact, also against a head kept from a write', async (t) => {
  const synced = JSON.parse(ok(t, await cli('--json', 'sync', 'gvt-c', fixture('gvt-host.json'))).stdout);
  t.regex(synced.headHash, /^[0-9a-f]{64}$/);
  const verified = ok(t, await cli('audit', 'verify'));
  t.regex(verified.stdout, /^intact: \d+ entries checked up to revision \d+ \(head [0-9a-f]{64}\), never compacted\n$/);
  const anchored = ok(t, await cli('audit', 'verify', '--expect-head', synced.headHash));
  t.regex(anchored.stdout, new RegExp(`\\(head ${synced.headHash}\\)`));
  const json = JSON.parse(ok(t, await cli('--json', 'audit', 'verify')).stdout);
  t.like(json, { intact: true, headHash: synced.headHash });
  t.false('problem' in json || 'checkpointRevision' in json, 'no problem and no checkpoint: defaults, left out');
});

// ---------------------------------------------------------------------------------------
// Registries of their own

async function ownRegistry(t: ExecutionContext) {
  const dir = tempDir(t);
  const dbPath = path.join(dir, 'registry.db');
  const server = await startServer({ dbPath, address: '127.0.0.1:0', leaseTtlMs: 3_600_000 });
  t.teardown(() => server.close());
  const run = (...args: string[]) => devcompat(server.address, args);
  for (const [name, file] of [
    ['gvt-a', 'gvt-host.json'],
    ['gvt-b', 'gvt-host-newer.json'],
    ['gvt-a', 'gvt-host-idle.json'],
    ['gvt-c', 'gvt-host-older.json'],
  ]) {
    const synced = await run('sync', name, fixture(file));
    if (synced.code !== 0) throw new Error(synced.stderr);
  }
  return { dbPath, run };
}

test('audit verify exits 1 with the problem, where and why on one line when the chain is broken', async (t) => {
  const { dbPath, run } = await ownRegistry(t);
  const head = JSON.parse(ok(t, await run('--json', 'audit', 'verify')).stdout).headHash;

  // Someone edits an entry in the database file behind the server's back.
  t.is(editHistory(dbPath, "UPDATE history_entries SET actor = 'mallory' WHERE revision = 2 AND seq = 1"), 1);

  const broken = await run('audit', 'verify');
  t.is(broken.code, 1, broken.stderr);
  t.is(broken.stderr, '');
  t.is(lines(broken.stdout).length, 1);
  t.regex(broken.stdout, /^broken: ALTERED at revision 2 index 1: .*hosts\/gvt-b\/devices\/0000:00:02\.0.*\n$/);
  const json = await run('--json', 'audit', 'verify', '--expect-head', head);
  t.is(json.code, 1);
  const verdict = JSON.parse(json.stdout);
  t.like(verdict, { problem: 'CHAIN_PROBLEM_ALTERED', revision: '2', index: 1 });
  t.false('intact' in verdict, 'intact: false is the default, so left out in proto3 JSON');

  const unknownHead = await run('audit', 'verify', '--expect-head', 'f'.repeat(64));
  t.is(unknownHead.code, 1);
  t.regex(unknownHead.stdout, /^broken: /);

  t.regex(oneErrorLine(t, await run('audit', 'verify', '--expect-head', 'not-a-hash')), /^devcompat: INVALID_ARGUMENT: .*expected_head/);
  t.regex(oneErrorLine(t, await devcompat('127.0.0.1:1', ['audit', 'verify'])), /^devcompat: UNAVAILABLE: cannot reach the registry at 127\.0\.0\.1:1/);
});

test('audit compact removes history up to a revision; what is gone is OUT_OF_RANGE; the chain still verifies', async (t) => {
  const { run } = await ownRegistry(t);
  const compacted = ok(t, await run('audit', 'compact', '--revision', '2'));
  t.regex(compacted.stdout, /^history compacted to revision 2 \(4 entries removed\); watches may start from revision 3; checkpoint [0-9a-f]{64}\n$/);

  const history = jsonLines(ok(t, await run('--json', 'history', '--oldest-first')).stdout);
  t.deepEqual([...new Set(history.map((e) => e.revision))], ['3', '4']);
  // What was compacted, by whom, when and the head then: intact never hides a compaction.
  t.regex(
    ok(t, await run('audit', 'verify')).stdout,
    /^intact: .*, compacted to revision 2 by anonymous at \d{4}-\d\d-\d\dT[\d:.]+Z \(4 entries removed; head then revision 4 [0-9a-f]{12}…\)\n$/,
  );

  t.is(
    oneErrorLine(t, await run('watch', '--from', '1')),
    'devcompat: OUT_OF_RANGE: revision 1 has been compacted: the oldest revision available is 3',
  );
  t.regex(oneErrorLine(t, await run('devices', 'get', GVT_A, '--as-of-revision', '1')), /^devcompat: OUT_OF_RANGE: /);
  // From the oldest revision, a watch works.
  const watch = ok(t, await run('watch', '--from', '3', '--until', '4'));
  t.deepEqual(lines(watch.stdout).slice(1).map((line) => watchFields(line).slice(0, 3)), [
    ['3', 'UPDATED', 'hosts/gvt-a'],
    ['3', 'UPDATED', GVT_A],
    ['4', 'CREATED', 'hosts/gvt-c'],
    ['4', 'CREATED', 'hosts/gvt-c/devices/0000:00:02.0'],
  ]);
  t.regex(oneErrorLine(t, await run('audit', 'compact')), /required option '--revision <n>' not specified/);
});
