// `devcompat sync`, `hosts`, `devices` and `history` as a host agent and an operator use them,
// against a real server. The tests run in order: each builds on the registry the previous left.

import test from 'ava';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { devcompat, fixture, jsonLines, lines, startSharedServer } from './helpers/cli.ts';

const GVT_A = 'hosts/gvt-a/devices/0000:00:02.0';
const NV_A = 'hosts/nv-a/devices/0000:3b:00.0';

let shared: Awaited<ReturnType<typeof startSharedServer>>;
const cli = (...args: string[]) => devcompat(shared.address, args);
const cliWith = (env: Record<string, string>, ...args: string[]) => devcompat(shared.address, args, { env });

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

test.serial('sync registers a GVT-g host from devices.json, then reports it unchanged', async (t) => {
  const first = await cli('sync', 'gvt-a', fixture('gvt-host.json'));
  t.is(first.code, 0, first.stderr);
  t.is(first.stderr, '');
  t.is(first.stdout, `hosts/gvt-a: revision ${shared.server.registry.revision} (1 created, 0 updated, 0 deleted)\n`);

  const again = await cli('sync', 'hosts/gvt-a', fixture('gvt-host.json'));
  t.is(again.code, 0, again.stderr);
  t.is(again.stdout, `hosts/gvt-a: unchanged at revision ${shared.server.registry.revision} (1 devices)\n`);

  const json = await cli('--json', 'sync', 'gvt-a', fixture('gvt-host.json'));
  t.is(json.code, 0, json.stderr);
  const response = JSON.parse(json.stdout);
  // proto3 JSON: `changed: false` and the zero counts are defaults, so left out.
  t.deepEqual(Object.keys(response).sort(), ['headHash', 'host', 'revision']);
  t.like(response, {
    revision: String(shared.server.registry.revision),
    host: { name: 'hosts/gvt-a', deviceCount: 1, labels: { zone: 'a', gpu: 'intel' } },
  });
});

test.serial('sync --json of an NVIDIA host: a new revision, changed, and the actor from --actor is recorded', async (t) => {
  const before = shared.server.registry.revision;
  const result = await cli('--json', '--actor', 'alice', 'sync', 'nv-a', fixture('nvidia-host.json'));
  t.is(result.code, 0, result.stderr);
  const response = JSON.parse(result.stdout);
  t.is(response.revision, String(before + 1));
  t.true(response.changed);
  t.is(response.devicesCreated, 1);
  t.is(response.host.createRevision, response.revision);

  const history = await cli('--json', 'history', 'hosts/nv-a');
  t.is(history.code, 0, history.stderr);
  const entries = jsonLines(history.stdout);
  t.deepEqual(
    entries.map((entry) => [entry.resource, entry.kind, entry.actor, entry.revision]),
    [
      [NV_A, 'CHANGE_KIND_CREATED', 'alice', response.revision],
      ['hosts/nv-a', 'CHANGE_KIND_CREATED', 'alice', response.revision],
    ],
  );
  // The snapshot is the device in proto JSON form: exactly one of host or device.
  t.deepEqual(Object.keys(entries[0].after), ['device']);
  t.false('before' in entries[0]); // a creation has no before: unset, so left out
  t.like(entries[0].after.device, {
    name: NV_A,
    capacity: { total: 24, available: 20 },
    labels: { board: 'a40' },
    descriptor: {
      vendor: '10de',
      type: 'nvidia-525',
      attributes: { manager: { versionValue: '535.104.5' }, framebuffer_mb: { intValue: '2048' } },
      rules: { manager: { op: 'COMPARE_OP_VERSION_GE', warnOnly: true } },
    },
  });
});

test.serial('DEVCOMPAT_ACTOR names the actor when --actor is not given', async (t) => {
  const synced = await cliWith({ DEVCOMPAT_ACTOR: 'bob' }, 'sync', 'nv-b', fixture('nvidia-host-older-manager.json'));
  t.is(synced.code, 0, synced.stderr);
  const newer = await cliWith({ DEVCOMPAT_ACTOR: 'bob' }, 'sync', 'gvt-b', fixture('gvt-host-newer.json'));
  t.is(newer.code, 0, newer.stderr);
  const older = await cli('sync', 'gvt-c', fixture('gvt-host-older.json'));
  t.is(older.code, 0, older.stderr);

  const table = await cli('history');
  t.is(table.code, 0, table.stderr);
  t.deepEqual(lines(table.stdout)[0].split(/\s+/), ['REVISION', 'TIME', 'CHANGE', 'RESOURCE', 'ACTOR', 'WHAT', 'REASON']);
  const actors = new Map(rowsOf(table.stdout).map((row) => [row[3], row[4]]));
  t.is(actors.get('hosts/nv-b'), 'bob');
  t.is(actors.get('hosts/gvt-b/devices/0000:00:02.0'), 'bob');
  t.is(actors.get('hosts/nv-a'), 'alice');
  t.is(actors.get('hosts/gvt-c'), 'anonymous');
  // Newest first.
  const revisions = rowsOf(table.stdout).map((row) => Number(row[0]));
  t.deepEqual(revisions, [...revisions].sort((a, b) => b - a));
  t.is(revisions.length, 10);
});

test.serial('history --actor lists only that actor\'s changes; DEVCOMPAT_ACTOR does not filter', async (t) => {
  const bob = await cli('history', '--actor', 'bob');
  t.is(bob.code, 0, bob.stderr);
  t.deepEqual(
    rowsOf(bob.stdout).map((row) => [row[3], row[4]]),
    [
      ['hosts/gvt-b/devices/0000:00:02.0', 'bob'],
      ['hosts/gvt-b', 'bob'],
      ['hosts/nv-b/devices/0000:3b:00.0', 'bob'],
      ['hosts/nv-b', 'bob'],
    ],
  );
  const everything = await cliWith({ DEVCOMPAT_ACTOR: 'bob' }, '--json', 'history', '--oldest-first', '--limit', '3');
  t.deepEqual(
    jsonLines(everything.stdout).map((entry) => entry.actor),
    ['anonymous', 'anonymous', 'alice'],
  );
});

test.serial('hosts list and hosts get show hosts by name with state, devices, revision and labels', async (t) => {
  const list = await cli('hosts', 'list');
  t.is(list.code, 0, list.stderr);
  t.deepEqual(lines(list.stdout)[0].split(/\s{2,}/), ['HOST', 'STATE', 'DEVICES', 'REVISION', 'LAST SYNC', 'LABELS']);
  const rows = rowsOf(list.stdout);
  t.deepEqual(
    rows.map((row) => [row[0], row[1], row[2], row[5]]),
    [
      ['hosts/gvt-a', 'READY', '1', 'gpu=intel,zone=a'],
      ['hosts/gvt-b', 'READY', '1', 'gpu=intel,zone=a'],
      ['hosts/gvt-c', 'READY', '1', 'gpu=intel,zone=b'],
      ['hosts/nv-a', 'READY', '1', 'gpu=nvidia,zone=b'],
      ['hosts/nv-b', 'READY', '1', 'gpu=nvidia,zone=a'],
    ],
  );
  t.regex(rows[0][4], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

  const [labelled, jsonList, get, jsonGet] = await Promise.all([
    cli('hosts', 'list', '--label', 'gpu=nvidia', '--label', 'zone=a'),
    cli('--json', 'hosts', 'list'),
    cli('hosts', 'get', 'gvt-a'),
    cli('--json', 'hosts', 'get', 'hosts/nv-a'),
  ]);
  t.deepEqual(rowsOf(labelled.stdout).map((row) => row[0]), ['hosts/nv-b']);
  t.deepEqual(
    jsonLines(jsonList.stdout).map((host) => host.name),
    ['hosts/gvt-a', 'hosts/gvt-b', 'hosts/gvt-c', 'hosts/nv-a', 'hosts/nv-b'],
  );
  t.is(get.code, 0, get.stderr);
  t.deepEqual(rowsOf(get.stdout).map((row) => row[0]), ['hosts/gvt-a']);
  const nvA = JSON.parse(jsonGet.stdout);
  t.like(nvA, { name: 'hosts/nv-a', deviceCount: 1, labels: { gpu: 'nvidia', zone: 'b' } });
  t.regex(nvA.revision, /^\d+$/);
  t.regex(nvA.lastSyncTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/); // RFC 3339
});

test.serial('devices list filters by type and software_version range', async (t) => {
  const all = await cli('devices', 'list');
  t.is(all.code, 0, all.stderr);
  t.deepEqual(lines(all.stdout)[0].split(/\s{2,}/), ['DEVICE', 'VENDOR', 'API', 'TYPE', 'VERSION', 'FREE', 'REVISION']);
  t.is(rowsOf(all.stdout).length, 5);

  const [ranged, byVendor] = await Promise.all([
    cli('devices', 'list', '--type', 'i915-GVTg_V5_4', '--version-range', '>=1.2.0 <2.0.0'),
    cli('--json', 'devices', 'list', '--vendor', '10de', '--host-label', 'zone=a'),
  ]);
  t.is(ranged.code, 0, ranged.stderr);
  t.deepEqual(
    rowsOf(ranged.stdout).map((row) => row.slice(0, 6)),
    [
      [GVT_A, '8086', 'vfio-pci', 'i915-GVTg_V5_4', '1.2.0', '6/8'],
      ['hosts/gvt-b/devices/0000:00:02.0', '8086', 'vfio-pci', 'i915-GVTg_V5_4', '1.3.0', '8/8'],
    ],
  );
  t.deepEqual(
    jsonLines(byVendor.stdout).map((device) => [device.name, device.descriptor.attributes.manager.versionValue]),
    [['hosts/nv-b/devices/0000:3b:00.0', '525.85.5']],
  );
});

test.serial('devices get shows the canonical descriptor, which check takes back as a descriptor file', async (t) => {
  const shown = await cli('devices', 'get', GVT_A);
  t.is(shown.code, 0, shown.stderr);
  t.deepEqual(rowsOf(shown.stdout)[0].slice(0, 6), [GVT_A, '8086', 'vfio-pci', 'i915-GVTg_V5_4', '1.2.0', '6/8']);
  const descriptor = JSON.parse(shown.stdout.slice(shown.stdout.indexOf('\n{') + 1));
  t.like(descriptor, {
    vendor: '8086',
    type: 'i915-GVTg_V5_4',
    attributes: { pci_ids: { setValue: { values: ['5912', '591b'] } }, low_gm_mb: { intValue: '128' } },
    rules: { aggregator: { op: 'COMPARE_OP_CLAIMABLE', values: [{ intValue: '1' }, { intValue: '2' }, { intValue: '4' }] } },
  });

  // Round trip: what `devices get --json` prints is a descriptor file `check` accepts as is.
  const json = await cli('--json', 'devices', 'get', GVT_A);
  t.is(json.code, 0, json.stderr);
  const device = JSON.parse(json.stdout);
  t.deepEqual(device.descriptor, descriptor);
  const file = path.join(shared.dir, 'gvt-a-descriptor.json');
  writeFileSync(file, JSON.stringify(device.descriptor));
  const check = await cli('check', file, GVT_A);
  t.is(check.code, 0, check.stderr);
  t.true(check.stdout.startsWith(`VERDICT_COMPATIBLE  ${file} (inline) -> ${GVT_A}\n`));
});

test.serial('sync with a changed descriptor updates the device and history says what changed', async (t) => {
  const result = await cli('--actor', 'carol', 'sync', 'gvt-a', fixture('gvt-host-newer.json'));
  t.is(result.code, 0, result.stderr);
  t.regex(result.stdout, /^hosts\/gvt-a: revision \d+ \(0 created, 1 updated, 0 deleted\)\n$/);
  const history = await cli('history', GVT_A);
  const [latest] = rowsOf(history.stdout);
  t.deepEqual(latest.slice(2), ['UPDATED', GVT_A, 'carol', 'software_version 1.2.0 -> 1.3.0, capacity']);
});

test.serial('hosts delete removes a host and its devices, recorded in history', async (t) => {
  const deleted = await cli('--actor', 'dave', 'hosts', 'delete', 'gvt-c');
  t.is(deleted.code, 0, deleted.stderr);
  t.is(deleted.stdout, `hosts/gvt-c deleted at revision ${shared.server.registry.revision} (1 devices)\n`);

  const [gone, list, history] = await Promise.all([
    cli('hosts', 'get', 'gvt-c'),
    cli('--json', 'hosts', 'list'),
    cli('--json', 'history', 'gvt-c'),
  ]);
  t.is(gone.code, 2);
  t.is(gone.stderr, 'devcompat: NOT_FOUND: hosts/gvt-c not found\n');
  t.false(jsonLines(list.stdout).some((host) => host.name === 'hosts/gvt-c'));
  const entries = jsonLines(history.stdout);
  const deletions = entries.filter((entry) => entry.kind === 'CHANGE_KIND_DELETED');
  t.deepEqual(deletions.map((entry) => [entry.resource, entry.actor]).sort(), [
    ['hosts/gvt-c', 'dave'],
    ['hosts/gvt-c/devices/0000:00:02.0', 'dave'],
  ]);
  t.true(deletions.every((entry) => !('after' in entry) && 'before' in entry));
});
