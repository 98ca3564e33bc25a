// The CLI options that only change what the request asks of the server: a precondition on a
// host's revision (`sync` and `hosts delete --expected-revision`), the narrowing and widening of
// `find` (`--available`, `--rejected-limit`, `--include-source-host`) and `devices list
// --device-api`. Each test shows what the user sees with and without the option, so a CLI that
// parsed an option but did not send it fails here. A real server; every host is synced with the
// CLI from test/fixtures/cli, some with one field changed (written to the server's temp dir).
// The GVT-g hosts serve the find tests; the revision tests use NVIDIA hosts, which are no
// candidates for a GVT-g source, so the tests do not see each other's hosts.

import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { devcompat, fixture, jsonLines, lines, startSharedServer, type ProcessResult } from './helpers/cli.ts';

let shared: Awaited<ReturnType<typeof startSharedServer>>;
const cli = (...args: string[]) => devcompat(shared.address, args);

const GVT = (host: string, device = '0000:00:02.0') => `hosts/${host}/devices/${device}`;

interface DeviceJson {
  device_id: string;
  descriptor: Record<string, unknown>;
  capacity: { total: number; available: number };
  labels?: Record<string, string>;
}

/** A devices.json made from a fixture: `change` edits a copy of it, written to the temp dir. */
function variant(name: string, base: string, change: (request: { labels: Record<string, string>; devices: DeviceJson[] }) => void): string {
  const request = JSON.parse(readFileSync(fixture(base), 'utf8'));
  change(request);
  const file = path.join(shared.dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(request));
  return file;
}

async function sync(host: string, file: string): Promise<void> {
  const result = await cli('sync', host, file);
  if (result.code !== 0) throw new Error(`setup: sync ${host} failed: ${result.stderr}`);
}

/** The host's revision, as `hosts get --json` shows it. */
async function hostRevision(host: string): Promise<string> {
  const result = await cli('--json', 'hosts', 'get', host);
  if (result.code !== 0) throw new Error(`hosts get ${host}: ${result.stderr}`);
  return JSON.parse(result.stdout).revision;
}

/** The target rows of `find` output: compatible names in rank order, rejected names. */
function targets(result: ProcessResult) {
  const rows = lines(result.stdout).filter((line) => /^(\d+|-)\s+hosts\//.test(line));
  const name = (line: string) => line.split(/\s+/)[1];
  return {
    compatible: rows.filter((line) => !line.startsWith('-')).map(name),
    rejected: rows.filter((line) => line.startsWith('-')).map(name),
    summary: lines(result.stdout).at(-1)!,
  };
}

test.before(async () => {
  shared = await startSharedServer({ leaseTtlMs: 3_600_000 });
  // GVT-g 1.2.0 everywhere but the `older-*` hosts (1.1.3: rejected from 1.2.0).
  const twoDevices = variant('two-devices', 'gvt-host.json', (request) => {
    request.devices.push({ ...request.devices[0], device_id: '0000:00:03.0' });
  });
  const full = variant('full', 'gvt-host-idle.json', (request) => {
    request.devices[0].capacity = { total: 8, available: 0 };
  });
  const apDevice = variant('vfio-ap', 'gvt-host.json', (request) => {
    request.devices[0].descriptor.device_api = 'vfio-ap';
  });
  await Promise.all([
    sync('src', twoDevices),
    sync('idle', fixture('gvt-host-idle.json')),
    sync('full', full),
    sync('older-a', fixture('gvt-host-older.json')),
    sync('older-b', fixture('gvt-host-older.json')),
    sync('older-c', fixture('gvt-host-older.json')),
    sync('ap', apDevice),
  ]);
});

test.after.always(async () => {
  await shared?.close();
});

test('find --available drops a full target that find lists without it', async (t) => {
  const [all, available] = await Promise.all([cli('find', GVT('src')), cli('find', '--available', GVT('src'))]);
  t.is(all.code, 0, all.stderr);
  t.is(available.code, 0, available.stderr);
  t.deepEqual(targets(all).compatible, [GVT('idle'), GVT('full')]);
  t.deepEqual(targets(available).compatible, [GVT('idle')]);
});

test('find --explain --rejected-limit lists that many rejected candidates; the summary still counts them all', async (t) => {
  const [every, limited] = await Promise.all([
    cli('find', '--explain', GVT('src')),
    cli('find', '--explain', '--rejected-limit', '1', GVT('src')),
  ]);
  t.is(every.code, 0, every.stderr);
  t.is(limited.code, 0, limited.stderr);
  t.deepEqual(targets(every).rejected, [GVT('older-a'), GVT('older-b'), GVT('older-c')]);
  t.deepEqual(targets(limited).rejected, [GVT('older-a')]);
  t.regex(targets(limited).summary, /: 2 compatible, 3 rejected,/);
});

test("find --include-source-host offers the devices of the source's own host", async (t) => {
  const sibling = GVT('src', '0000:00:03.0');
  const [without, including] = await Promise.all([
    cli('find', GVT('src')),
    cli('find', '--include-source-host', GVT('src')),
  ]);
  t.is(without.code, 0, without.stderr);
  t.is(including.code, 0, including.stderr);
  t.deepEqual(targets(without).compatible, [GVT('idle'), GVT('full')]);
  // The whole host is kept, the source device with its sibling (6 of 8 free, between the others).
  t.deepEqual(targets(including).compatible, [GVT('idle'), GVT('src'), sibling, GVT('full')]);
});

test('devices list --device-api lists only devices with that device_api', async (t) => {
  const [all, ap] = await Promise.all([
    cli('--json', 'devices', 'list'),
    cli('--json', 'devices', 'list', '--device-api', 'vfio-ap'),
  ]);
  t.is(ap.code, 0, ap.stderr);
  t.true(jsonLines(all.stdout).some((device) => device.descriptor.deviceApi === 'vfio-pci'));
  t.deepEqual(
    jsonLines(ap.stdout).map((device) => [device.name, device.descriptor.deviceApi]),
    [[GVT('ap'), 'vfio-ap']],
  );
});

test.serial('sync --expected-revision: a stale revision is refused as ABORTED and nothing changes; the current one applies', async (t) => {
  const host = 'hosts/cas-sync';
  await sync('cas-sync', fixture('nvidia-host.json'));
  const current = await hostRevision(host);
  const stale = String(Number(current) - 1);

  const refused = await cli('sync', 'cas-sync', fixture('nvidia-host-older-manager.json'), '--expected-revision', stale);
  t.is(refused.code, 2);
  t.is(refused.stdout, '');
  t.is(
    refused.stderr,
    `devcompat: ABORTED: ${host} is at revision ${current}, not the expected ${stale}: re-read it and retry\n`,
  );
  const device = JSON.parse((await cli('--json', 'devices', 'get', 'hosts/cas-sync/devices/0000:3b:00.0')).stdout);
  t.is(device.descriptor.attributes.manager.versionValue, '535.104.5');
  t.is(await hostRevision(host), current);

  // 0 means "must not exist yet".
  const exists = await cli('sync', 'cas-sync', fixture('nvidia-host-older-manager.json'), '--expected-revision', '0');
  t.is(exists.code, 2);
  t.regex(exists.stderr, /^devcompat: ABORTED: hosts\/cas-sync is at revision \d+, not the expected 0:/);

  const applied = await cli('sync', 'cas-sync', fixture('nvidia-host-older-manager.json'), '--expected-revision', current);
  t.is(applied.code, 0, applied.stderr);
  t.regex(applied.stdout, /^hosts\/cas-sync: revision \d+ \(0 created, 1 updated, 0 deleted\)\n$/);
});

test.serial('hosts delete --expected-revision: a stale revision is refused as ABORTED and the host stays; the current one deletes', async (t) => {
  const host = 'hosts/cas-delete';
  await sync('cas-delete', fixture('nvidia-host.json'));
  const current = await hostRevision(host);
  const stale = String(Number(current) - 1);

  const refused = await cli('hosts', 'delete', 'cas-delete', '--expected-revision', stale);
  t.is(refused.code, 2);
  t.is(refused.stdout, '');
  t.is(
    refused.stderr,
    `devcompat: ABORTED: ${host} is at revision ${current}, not the expected ${stale}: re-read it and retry\n`,
  );
  t.is(await hostRevision(host), current);

  const deleted = await cli('hosts', 'delete', 'cas-delete', '--expected-revision', current);
  t.is(deleted.code, 0, deleted.stderr);
  t.regex(deleted.stdout, /^hosts\/cas-delete deleted at revision \d+ \(1 devices\)\n$/);
  t.is((await cli('hosts', 'get', 'cas-delete')).code, 2);
});
