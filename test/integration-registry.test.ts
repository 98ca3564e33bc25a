// RegistryService through the client library against a real server: SyncHost and what it
// records, canonical descriptors, expected_revision, Get/List with filters and pagination,
// DeleteHost, and concurrent writes through the group commit.

import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import type { DescriptorInput, DeviceSpec, Host, SyncHostResponse } from '../client/client.ts';
import { startTestServer } from './helpers/server.ts';
import { collect, findAll, gvt, historyOf, names, nextMillisecond, rejectsWith, valueJson } from './helpers/integration.ts';

const timeMs = (time: Date) => time.getTime();

/** What a sync reports, without the host (checked separately). */
const counts = (response: SyncHostResponse) => ({
  revision: response.revision,
  changed: response.changed,
  created: response.devices_created,
  updated: response.devices_updated,
  deleted: response.devices_deleted,
});

/** History as (revision, resource, kind) triples, oldest first; order within a revision by resource. */
async function changes(client: Parameters<typeof historyOf>[0], filter: Parameters<typeof historyOf>[1] = {}) {
  const entries = await historyOf(client, { ...filter, order: 'HISTORY_ORDER_OLDEST_FIRST' });
  return entries
    .map((e) => [e.revision, e.resource, e.kind.replace('CHANGE_KIND_', '')])
    .sort((a, b) => Number(a[0]) - Number(b[0]) || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
}

// ---------------------------------------------------------------------------------------
// SyncHost

test('a synced host and its devices read back, descriptors in canonical form', async (t) => {
  const { client, server } = await startTestServer(t);
  const descriptor: DescriptorInput = {
    vendor: '8086',
    device_api: 'vfio-pci',
    type: 'i915-GVTg_V5_4',
    compatible_types: ['i915-GVTg_V5_8', 'i915-GVTg_V4_8', 'i915-GVTg_V5_8'],
    software_version: 'v1.2.3',
    attributes: {
      features: { set_value: { values: ['ppgtt', 'none', 'ppgtt'] } },
      low_gm_mb: { int_value: 128 },
      huge: { int_value: '9007199254740993' },
      negative: { int_value: '-42' },
      manager: { version_value: '535.104.05' },
      ecc: { bool_value: true },
      family: { string_value: 'kbl' },
    },
    rules: {
      features: { op: 'COMPARE_OP_SUPERSET' },
      family: { op: 'COMPARE_OP_ONE_OF', values: [{ string_value: 'skl' }, { string_value: 'kbl' }, { string_value: 'kbl' }] },
      software_version: { op: 'COMPARE_OP_SEMVER_RANGE', range: '>=1.0.0 <2.0.0', warn_only: true },
    },
  };
  const response = await client.syncHost({
    name: 'hosts/node-1',
    labels: { zone: 'a', rack: 'r7' },
    devices: [
      { device_id: '0000:00:02.0', descriptor, capacity: { total: 4, available: 3 }, labels: { pool: 'gold' } },
      { device_id: '0000:00:03.0', descriptor: gvt('1.2.0') },
    ],
  });
  t.deepEqual(counts(response), { revision: '1', changed: true, created: 2, updated: 0, deleted: 0 });
  t.like(response.host, { name: 'hosts/node-1', labels: { zone: 'a', rack: 'r7' }, revision: '1', create_revision: '1', device_count: 2 });

  const host = await client.getHost('hosts/node-1');
  t.like(host, { name: 'hosts/node-1', labels: { rack: 'r7', zone: 'a' }, revision: '1', create_revision: '1', device_count: 2 });
  t.deepEqual(host.update_time, response.host.update_time);
  t.deepEqual(host.create_time, response.host.create_time);
  t.deepEqual(await client.getHost('node-1'), host, 'a bare host id names the same host');

  const device = await client.getDevice('hosts/node-1/devices/0000:00:02.0');
  t.is(device.name, 'hosts/node-1/devices/0000:00:02.0');
  t.is(device.revision, '1');
  t.is(device.create_revision, '1');
  t.deepEqual(device.capacity, { total: 4, available: 3 });
  t.deepEqual(device.labels, { pool: 'gold' });
  const d = device.descriptor;
  t.like(d, { vendor: '8086', device_api: 'vfio-pci', type: 'i915-GVTg_V5_4', software_version: '1.2.3' });
  t.deepEqual(d.compatible_types, ['i915-GVTg_V4_8', 'i915-GVTg_V5_8'], 'sorted, duplicates removed');
  const attributes = Object.fromEntries(Object.entries(d.attributes ?? {}).map(([name, value]) => [name, valueJson(value)]));
  t.deepEqual(attributes, {
    ecc: { bool_value: true },
    family: { string_value: 'kbl' },
    features: { set_value: { values: ['none', 'ppgtt'] } },
    huge: { int_value: '9007199254740993' },
    low_gm_mb: { int_value: '128' },
    manager: { version_value: '535.104.5' },
    negative: { int_value: '-42' },
  });
  t.deepEqual(Object.keys(d.rules ?? {}).sort(), ['family', 'features', 'software_version']);
  t.is(d.rules!.features.op, 'COMPARE_OP_SUPERSET');
  t.deepEqual(d.rules!.family.values!.map(valueJson), [{ string_value: 'kbl' }, { string_value: 'skl' }]);
  t.like(d.rules!.software_version, { op: 'COMPARE_OP_SEMVER_RANGE', range: '>=1.0.0 <2.0.0', warn_only: true });

  const plain = await client.getDevice('hosts/node-1/devices/0000:00:03.0');
  t.is(plain.capacity, null, 'unknown capacity stays unknown');
  t.deepEqual(plain.labels, {});
  t.deepEqual(server.registry.stats.hosts, 1);
  t.deepEqual(server.registry.stats.devices, 2);
});

test('each changing sync is one revision with exact counts; removed devices are deleted', async (t) => {
  const { client } = await startTestServer(t);
  const labels = { zone: 'a' };
  const first = await client.syncHost({
    name: 'h1',
    labels,
    devices: [
      { device_id: 'a', descriptor: gvt('1.2.3'), capacity: { total: 4, available: 4 } },
      { device_id: 'b', descriptor: gvt('1.2.3') },
      { device_id: 'c', descriptor: gvt('1.2.3') },
    ],
  });
  t.deepEqual(counts(first), { revision: '1', changed: true, created: 3, updated: 0, deleted: 0 });

  // a unchanged, b upgraded, c removed, d added.
  const second = await client.syncHost({
    name: 'h1',
    labels,
    devices: [
      { device_id: 'a', descriptor: gvt('1.2.3'), capacity: { total: 4, available: 4 } },
      { device_id: 'b', descriptor: gvt('1.3.0') },
      { device_id: 'd', descriptor: gvt('1.2.3') },
    ],
  });
  t.deepEqual(counts(second), { revision: '2', changed: true, created: 1, updated: 1, deleted: 1 });
  t.like(second.host, { revision: '2', create_revision: '1', device_count: 3 });
  await rejectsWith(t, client.getDevice('hosts/h1/devices/c'), grpc.status.NOT_FOUND, 'a removed device is gone');
  t.like(await client.getDevice('hosts/h1/devices/a'), { revision: '1', create_revision: '1' });
  const b = await client.getDevice('hosts/h1/devices/b');
  t.like(b, { revision: '2', create_revision: '1' });
  t.is(b.descriptor.software_version, '1.3.0');
  t.like(await client.getDevice('hosts/h1/devices/d'), { revision: '2', create_revision: '2' });
  t.deepEqual(
    names(await collect(client.listDevices({ host: 'h1' }))),
    ['hosts/h1/devices/a', 'hosts/h1/devices/b', 'hosts/h1/devices/d'],
  );

  // Host labels alone are a change.
  const third = await client.syncHost({ name: 'h1', labels: { zone: 'b' }, devices: [
    { device_id: 'a', descriptor: gvt('1.2.3'), capacity: { total: 4, available: 4 } },
    { device_id: 'b', descriptor: gvt('1.3.0') },
    { device_id: 'd', descriptor: gvt('1.2.3') },
  ] });
  t.deepEqual(counts(third), { revision: '3', changed: true, created: 0, updated: 0, deleted: 0 });
  t.like(await client.getHost('h1'), { revision: '3', labels: { zone: 'b' } });

  // So are a device's capacity, its labels, and its capacity becoming unknown.
  const devices = (a: Partial<DeviceSpec>): DeviceSpec[] => [
    { device_id: 'a', descriptor: gvt('1.2.3'), ...a },
    { device_id: 'b', descriptor: gvt('1.3.0') },
    { device_id: 'd', descriptor: gvt('1.2.3') },
  ];
  const fourth = await client.syncHost({ name: 'h1', labels: { zone: 'b' }, devices: devices({ capacity: { total: 4, available: 1 } }) });
  t.deepEqual(counts(fourth), { revision: '4', changed: true, created: 0, updated: 1, deleted: 0 });
  t.deepEqual((await client.getDevice('hosts/h1/devices/a')).capacity, { total: 4, available: 1 });
  const fifth = await client.syncHost({
    name: 'h1',
    labels: { zone: 'b' },
    devices: devices({ capacity: { total: 4, available: 1 }, labels: { pool: 'x' } }),
  });
  t.deepEqual(counts(fifth), { revision: '5', changed: true, created: 0, updated: 1, deleted: 0 });
  t.deepEqual((await client.getDevice('hosts/h1/devices/a')).labels, { pool: 'x' });
  const sixth = await client.syncHost({ name: 'h1', labels: { zone: 'b' }, devices: devices({ labels: { pool: 'x' } }) });
  t.deepEqual(counts(sixth), { revision: '6', changed: true, created: 0, updated: 1, deleted: 0 });
  t.is((await client.getDevice('hosts/h1/devices/a')).capacity, null);

  // Every revision is in history, and only what changed.
  t.deepEqual(await changes(client), [
    ['1', 'hosts/h1', 'CREATED'],
    ['1', 'hosts/h1/devices/a', 'CREATED'],
    ['1', 'hosts/h1/devices/b', 'CREATED'],
    ['1', 'hosts/h1/devices/c', 'CREATED'],
    ['2', 'hosts/h1/devices/b', 'UPDATED'],
    ['2', 'hosts/h1/devices/c', 'DELETED'],
    ['2', 'hosts/h1/devices/d', 'CREATED'],
    ['3', 'hosts/h1', 'UPDATED'],
    ['4', 'hosts/h1/devices/a', 'UPDATED'],
    ['5', 'hosts/h1/devices/a', 'UPDATED'],
    ['6', 'hosts/h1/devices/a', 'UPDATED'],
  ]);
  const [labelChange] = await historyOf(client, { startRevision: 3, endRevision: 3 });
  t.deepEqual(labelChange.before?.host?.labels, { zone: 'a' });
  t.deepEqual(labelChange.after?.host?.labels, { zone: 'b' });
  const [capacityChange] = await historyOf(client, { startRevision: 4, endRevision: 4 });
  t.deepEqual(capacityChange.before?.device?.capacity, { total: 4, available: 4 });
  t.deepEqual(capacityChange.after?.device?.capacity, { total: 4, available: 1 });
});

test('resyncing the same state, in any equivalent form, changes nothing', async (t) => {
  const { client, server } = await startTestServer(t);
  const canonical: DescriptorInput = {
    vendor: '8086',
    device_api: 'vfio-pci',
    type: 'i915-GVTg_V5_4',
    compatible_types: ['i915-GVTg_V4_8', 'i915-GVTg_V5_8'],
    software_version: '1.2.3',
    attributes: {
      features: { set_value: { values: ['none', 'ppgtt'] } },
      low_gm_mb: { int_value: '128' },
      manager: { version_value: '535.104.5' },
    },
    rules: { features: { op: 'COMPARE_OP_SUPERSET' }, family: { op: 'COMPARE_OP_ONE_OF', values: [{ string_value: 'kbl' }, { string_value: 'skl' }] } },
  };
  const first = await client.syncHost({
    name: 'hosts/h1',
    labels: { zone: 'a', rack: 'r1' },
    devices: [
      { device_id: '0000:00:02.0', descriptor: canonical, capacity: { total: 2, available: 1 }, labels: { pool: 'x', tier: 'gold' } },
      { device_id: '0000:00:03.0', descriptor: gvt('1.0.0') },
    ],
  });
  t.true(first.changed);
  const historyBefore = await historyOf(client);
  const hostBefore = await client.getHost('h1');
  await nextMillisecond();

  // The same state: devices, labels and set members reordered, duplicates, `v` prefix,
  // leading zeros, int64 as a number, empty lists and maps spelled out or left out.
  const equivalent: DescriptorInput = {
    rules: {
      family: { op: 'COMPARE_OP_ONE_OF', values: [{ string_value: 'skl' }, { string_value: 'kbl' }, { string_value: 'skl' }] },
      features: { op: 'COMPARE_OP_SUPERSET', values: [], range: '', warn_only: false },
    },
    attributes: {
      manager: { version_value: '535.104.05' },
      low_gm_mb: { int_value: 128 },
      features: { set_value: { values: ['ppgtt', 'none', 'ppgtt', 'none'] } },
    },
    software_version: 'v1.2.3',
    compatible_types: ['i915-GVTg_V5_8', 'i915-GVTg_V4_8', 'i915-GVTg_V5_8'],
    type: 'i915-GVTg_V5_4',
    device_api: 'vfio-pci',
    vendor: '8086',
  };
  const again = await client.syncHost({
    name: 'h1',
    labels: { rack: 'r1', zone: 'a' },
    devices: [
      { device_id: '0000:00:03.0', descriptor: { ...gvt('v1.0.0'), compatible_types: [] } },
      { device_id: '0000:00:02.0', descriptor: equivalent, capacity: { total: 2, available: 1 }, labels: { tier: 'gold', pool: 'x' } },
    ],
  });
  t.deepEqual(counts(again), { revision: '1', changed: false, created: 0, updated: 0, deleted: 0 });
  t.is(again.host.revision, '1');
  t.is(server.registry.revision, 1);
  t.deepEqual(await historyOf(client), historyBefore, 'no history entry for a sync that changed nothing');
  const hostAfter = await client.getHost('h1');
  t.deepEqual(hostAfter.update_time, hostBefore.update_time, 'update_time stays');
  t.true(timeMs(hostAfter.last_sync_time) > timeMs(hostBefore.last_sync_time), 'last_sync_time moves');
  t.like(await client.getDevice('hosts/h1/devices/0000:00:02.0'), { revision: '1' });

  // The next real change takes the next revision: no-op syncs consumed none.
  const change = await client.syncHost({ name: 'h1', labels: { zone: 'a', rack: 'r2' }, devices: [] });
  t.deepEqual(counts(change), { revision: '2', changed: true, created: 0, updated: 0, deleted: 2 });
});

// ---------------------------------------------------------------------------------------
// expected_revision

test('expected_revision: a stale one is ABORTED with nothing written; 0 means must not exist', async (t) => {
  const { client, server } = await startTestServer(t);
  const created = await client.syncHost({ name: 'h1', devices: [{ device_id: 'a', descriptor: gvt('1.2.0') }], expected_revision: 0 });
  t.deepEqual(counts(created), { revision: '1', changed: true, created: 1, updated: 0, deleted: 0 });

  const exists = await rejectsWith(
    t,
    client.syncHost({ name: 'h1', devices: [{ device_id: 'b', descriptor: gvt('1.2.0') }], expected_revision: 0 }),
    grpc.status.ABORTED,
    '0 means the host must not exist yet',
  );
  t.is(exists.reason, 'REVISION_MISMATCH');
  t.like(exists.metadata, { resource: 'hosts/h1', current_revision: '1', expected_revision: '0' });

  await client.syncHost({ name: 'h2', devices: [] }); // revision 2, another host
  await client.syncHost({ name: 'h1', devices: [{ device_id: 'a', descriptor: gvt('1.3.0') }] }); // revision 3
  const historyBefore = await historyOf(client);

  for (const stale of [1, 2, '4']) {
    const error = await rejectsWith(
      t,
      client.syncHost({ name: 'h1', labels: { x: 'y' }, devices: [], expected_revision: stale }),
      grpc.status.ABORTED,
      `expected_revision ${stale} while the host is at 3`,
    );
    t.is(error.reason, 'REVISION_MISMATCH');
  }
  // Even a sync that would change nothing is refused on a stale revision.
  await rejectsWith(
    t,
    client.syncHost({ name: 'h1', devices: [{ device_id: 'a', descriptor: gvt('1.3.0') }], expected_revision: 1 }),
    grpc.status.ABORTED,
  );
  t.is(server.registry.revision, 3, 'nothing written');
  t.deepEqual(await historyOf(client), historyBefore, 'no history written');
  const host = await client.getHost('h1');
  t.like(host, { revision: '3', labels: {}, device_count: 1 });
  t.is((await client.getDevice('hosts/h1/devices/a')).descriptor.software_version, '1.3.0');

  const current = await client.syncHost({
    name: 'h1',
    labels: { x: 'y' },
    devices: [],
    expected_revision: host.revision,
  });
  t.deepEqual(counts(current), { revision: '4', changed: true, created: 0, updated: 0, deleted: 1 });

  // DeleteHost takes the same precondition.
  await rejectsWith(t, client.deleteHost('h1', { expectedRevision: 3 }), grpc.status.ABORTED);
  t.like(await client.getHost('h1'), { revision: '4' });
  const deleted = await client.deleteHost('h1', { expectedRevision: 4 });
  t.is(deleted.revision, '5');
  // Gone again: 0 holds once more.
  const recreated = await client.syncHost({ name: 'h1', devices: [], expected_revision: 0 });
  t.like(recreated, { revision: '6', changed: true });
  t.like(recreated.host, { create_revision: '6' });
});

// ---------------------------------------------------------------------------------------
// ListDevices / ListHosts

/** Seven devices on three hosts, and four more hosts without devices. */
async function catalogue(t: Parameters<typeof startTestServer>[0]) {
  const testServer = await startTestServer(t);
  const { client } = testServer;
  const mlx: DescriptorInput = { vendor: '15b3', device_api: 'vfio-pci', type: 'mlx5_vfio_pci', software_version: '1.1.0' };
  const nvidia: DescriptorInput = { vendor: '10de', device_api: 'vfio-pci', type: 'nvidia-525', software_version: '17.3.0' };
  const ccw: DescriptorInput = { vendor: 'ibm', device_api: 'vfio-ccw', type: 'vfio_ccw-io', software_version: '1.0.0' };
  await client.syncHost({
    name: 'alpha',
    labels: { zone: 'a', tier: 'gold' },
    devices: [
      { device_id: '0000:00:02.0', descriptor: gvt('1.2.0'), labels: { pool: 'x' } },
      { device_id: '0000:00:03.0', descriptor: gvt('1.9.9') },
      { device_id: '0000:3b:00.2', descriptor: mlx, labels: { pool: 'y' } },
    ],
  });
  await client.syncHost({
    name: 'beta',
    labels: { zone: 'b', tier: 'gold' },
    devices: [
      { device_id: '0000:00:02.0', descriptor: gvt('2.0.0'), labels: { pool: 'x' } },
      { device_id: '0000:00:03.0', descriptor: nvidia },
    ],
  });
  await client.syncHost({
    name: 'gamma',
    labels: { zone: 'a' },
    devices: [
      { device_id: '0.0.1234', descriptor: ccw },
      { device_id: '0000:00:02.0', descriptor: gvt('v1.2.5'), labels: { pool: 'x', extra: 'yes' } },
    ],
  });
  for (const name of ['delta', 'epsilon', 'zeta', 'eta']) {
    await client.syncHost({ name, labels: { zone: name === 'zeta' ? 'a' : 'c' }, devices: [] });
  }
  return testServer;
}

const ALL_DEVICES = [
  'hosts/alpha/devices/0000:00:02.0',
  'hosts/alpha/devices/0000:00:03.0',
  'hosts/alpha/devices/0000:3b:00.2',
  'hosts/beta/devices/0000:00:02.0',
  'hosts/beta/devices/0000:00:03.0',
  'hosts/gamma/devices/0.0.1234',
  'hosts/gamma/devices/0000:00:02.0',
];

test('ListDevices filters by vendor, device_api, type, host, labels, host labels and version range', async (t) => {
  const { client } = await catalogue(t);
  const list = async (filter: Parameters<typeof client.listDevices>[0]) => names(await collect(client.listDevices(filter)));

  t.deepEqual(await list({}), ALL_DEVICES);
  t.deepEqual(await list({ vendor: '8086' }), [
    'hosts/alpha/devices/0000:00:02.0',
    'hosts/alpha/devices/0000:00:03.0',
    'hosts/beta/devices/0000:00:02.0',
    'hosts/gamma/devices/0000:00:02.0',
  ]);
  t.deepEqual(await list({ device_api: 'vfio-ccw' }), ['hosts/gamma/devices/0.0.1234']);
  t.deepEqual(await list({ type: 'mlx5_vfio_pci' }), ['hosts/alpha/devices/0000:3b:00.2']);
  t.deepEqual(await list({ vendor: '10de', device_api: 'vfio-pci', type: 'nvidia-525' }), ['hosts/beta/devices/0000:00:03.0']);
  t.deepEqual(await list({ vendor: '10de', device_api: 'vfio-pci', type: 'i915-GVTg_V5_4' }), []);
  t.deepEqual(await list({ host: 'hosts/beta' }), ['hosts/beta/devices/0000:00:02.0', 'hosts/beta/devices/0000:00:03.0']);
  t.deepEqual(await list({ host: 'gamma' }), ['hosts/gamma/devices/0.0.1234', 'hosts/gamma/devices/0000:00:02.0']);
  t.deepEqual(await list({ host: 'delta' }), []);
  t.deepEqual(await list({ labels: { pool: 'x' } }), [
    'hosts/alpha/devices/0000:00:02.0',
    'hosts/beta/devices/0000:00:02.0',
    'hosts/gamma/devices/0000:00:02.0',
  ]);
  t.deepEqual(await list({ labels: { pool: 'x', extra: 'yes' } }), ['hosts/gamma/devices/0000:00:02.0']);
  t.deepEqual(await list({ host_labels: { zone: 'a' } }), [
    'hosts/alpha/devices/0000:00:02.0',
    'hosts/alpha/devices/0000:00:03.0',
    'hosts/alpha/devices/0000:3b:00.2',
    'hosts/gamma/devices/0.0.1234',
    'hosts/gamma/devices/0000:00:02.0',
  ]);
  t.deepEqual(await list({ host_labels: { zone: 'a', tier: 'gold' } }), [
    'hosts/alpha/devices/0000:00:02.0',
    'hosts/alpha/devices/0000:00:03.0',
    'hosts/alpha/devices/0000:3b:00.2',
  ]);
  t.deepEqual(await list({ software_version_range: '>=1.2.0 <2.0.0' }), [
    'hosts/alpha/devices/0000:00:02.0',
    'hosts/alpha/devices/0000:00:03.0',
    'hosts/gamma/devices/0000:00:02.0',
  ]);
  t.deepEqual(await list({ software_version_range: '>=1.2.0 <2.0.0', host_labels: { tier: 'gold' }, labels: { pool: 'x' } }), [
    'hosts/alpha/devices/0000:00:02.0',
  ]);
  t.deepEqual(await list({ vendor: '8086', software_version_range: '^2' }), ['hosts/beta/devices/0000:00:02.0']);

  for (const range of ['>=1.0.0 junk', 'not a range']) {
    const error = await rejectsWith(
      t,
      client.listDevicesPage({ filter: { software_version_range: range } }),
      grpc.status.INVALID_ARGUMENT,
      range,
    );
    t.deepEqual(error.fieldViolations.map((v) => v.field), ['filter.software_version_range']);
  }
  const badLabel = await rejectsWith(t, client.listDevicesPage({ filter: { labels: { 'Bad Key': 'x' } } }), grpc.status.INVALID_ARGUMENT);
  t.true(badLabel.fieldViolations.some((v) => v.field.startsWith('filter.labels')));
});

test('ListDevices and ListHosts paginate: every item exactly once, in name order, each page with the revision', async (t) => {
  const { client } = await catalogue(t);
  const revision = '7';

  const devicePages: string[][] = [];
  let token = '';
  do {
    const page = await client.listDevicesPage({ pageSize: 2, pageToken: token });
    t.is(page.revision, revision);
    t.true(page.devices.length <= 2);
    devicePages.push(names(page.devices));
    token = page.next_page_token;
  } while (token && devicePages.length < 10);
  t.deepEqual(devicePages, [ALL_DEVICES.slice(0, 2), ALL_DEVICES.slice(2, 4), ALL_DEVICES.slice(4, 6), ALL_DEVICES.slice(6)]);
  t.deepEqual(names(await collect(client.listDevices({}, { pageSize: 3 }))), ALL_DEVICES, 'the client pages by itself');

  const allHosts = ['alpha', 'beta', 'delta', 'epsilon', 'eta', 'gamma', 'zeta'].map((h) => `hosts/${h}`);
  const hostPages: Host[][] = [];
  token = '';
  do {
    const page = await client.listHostsPage({ pageSize: 2, pageToken: token });
    t.is(page.revision, revision);
    hostPages.push(page.hosts);
    token = page.next_page_token;
  } while (token && hostPages.length < 10);
  t.deepEqual(hostPages.map(names), [allHosts.slice(0, 2), allHosts.slice(2, 4), allHosts.slice(4, 6), allHosts.slice(6)]);
  t.deepEqual(
    hostPages.flat().map((h) => [h.name, h.device_count]),
    [['hosts/alpha', 3], ['hosts/beta', 2], ['hosts/delta', 0], ['hosts/epsilon', 0], ['hosts/eta', 0], ['hosts/gamma', 2], ['hosts/zeta', 0]],
  );

  // Host label filters, paged one by one.
  t.deepEqual(names(await collect(client.listHosts({ labels: { zone: 'a' }, pageSize: 1 }))), ['hosts/alpha', 'hosts/gamma', 'hosts/zeta']);
  t.deepEqual(names(await collect(client.listHosts({ labels: { zone: 'a', tier: 'gold' } }))), ['hosts/alpha']);
  t.deepEqual(names(await collect(client.listHosts({ labels: { zone: 'nowhere' } }))), []);

  // A filtered device listing pages too, and its token is bound to its filter.
  const first = await client.listDevicesPage({ filter: { vendor: '8086' }, pageSize: 3 });
  t.deepEqual(names(first.devices), ALL_DEVICES.filter((n) => !n.includes('3b:00.2') && !n.includes('beta/devices/0000:00:03.0') && !n.includes('0.0.1234')).slice(0, 3));
  const rest = await client.listDevicesPage({ filter: { vendor: '8086' }, pageSize: 3, pageToken: first.next_page_token });
  t.deepEqual(names(rest.devices), ['hosts/gamma/devices/0000:00:02.0']);
  t.is(rest.next_page_token, '');
  const misuse = await rejectsWith(
    t,
    client.listDevicesPage({ filter: { vendor: '10de' }, pageSize: 3, pageToken: first.next_page_token }),
    grpc.status.INVALID_ARGUMENT,
    'a device page token reused with another filter',
  );
  t.deepEqual(misuse.fieldViolations.map((v) => v.field), ['page_token']);
  const hostsPage = await client.listHostsPage({ labels: { zone: 'a' }, pageSize: 1 });
  const hostMisuse = await rejectsWith(
    t,
    client.listHostsPage({ labels: { zone: 'c' }, pageSize: 1, pageToken: hostsPage.next_page_token }),
    grpc.status.INVALID_ARGUMENT,
    'a host page token reused with other labels',
  );
  t.deepEqual(hostMisuse.fieldViolations.map((v) => v.field), ['page_token']);
  await rejectsWith(t, client.listHostsPage({ pageToken: 'not-a-token' }), grpc.status.INVALID_ARGUMENT);
  // A token whose filters match but whose position was altered is refused too: read as a
  // position, it gave an empty last page (the listing looked complete) or started over.
  const altered = (token: string, cursor: unknown) => {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    return Buffer.from(JSON.stringify({ f: parsed.f, c: cursor })).toString('base64url');
  };
  for (const cursor of [5, {}, [{}, {}], ['gamma'], null, ['gamma', 7]]) {
    const bad = await rejectsWith(
      t,
      client.listDevicesPage({ filter: { vendor: '8086' }, pageSize: 3, pageToken: altered(first.next_page_token, cursor) }),
      grpc.status.INVALID_ARGUMENT,
      `a device page token whose position is ${JSON.stringify(cursor)}`,
    );
    t.deepEqual(bad.fieldViolations.map((v) => v.field), ['page_token']);
  }
  for (const cursor of [{}, 3, ['alpha']]) {
    const bad = await rejectsWith(t, client.listHostsPage({ labels: { zone: 'a' }, pageSize: 1, pageToken: altered(hostsPage.next_page_token, cursor) }), grpc.status.INVALID_ARGUMENT);
    t.deepEqual(bad.fieldViolations.map((v) => v.field), ['page_token']);
  }
});

// ---------------------------------------------------------------------------------------
// DeleteHost

test('DeleteHost removes a host and its devices, records it, and FindTargets no longer offers them', async (t) => {
  const { client, server } = await startTestServer(t);
  await client.syncHost({ name: 'src', devices: [{ device_id: 'gpu0', descriptor: gvt('1.2.0') }] });
  await client.syncHost({
    name: 'doomed',
    labels: { zone: 'a' },
    devices: [
      { device_id: 'gpu0', descriptor: gvt('1.2.0'), capacity: { total: 2, available: 2 } },
      { device_id: 'gpu1', descriptor: gvt('1.3.0') },
    ],
  });
  await client.syncHost({ name: 'other', devices: [{ device_id: 'gpu0', descriptor: gvt('1.2.0') }] });
  const before = await findAll(t, client, 'hosts/src/devices/gpu0');
  t.deepEqual(names(before.targets), ['hosts/doomed/devices/gpu0', 'hosts/other/devices/gpu0', 'hosts/doomed/devices/gpu1']);

  const deleted = await client.deleteHost('hosts/doomed');
  t.like(deleted, { revision: '4', devices_deleted: 2 });
  t.regex(deleted.head_hash, /^[0-9a-f]{64}$/);
  await rejectsWith(t, client.getHost('hosts/doomed'), grpc.status.NOT_FOUND);
  await rejectsWith(t, client.getDevice('hosts/doomed/devices/gpu0'), grpc.status.NOT_FOUND);
  t.deepEqual(names(await collect(client.listDevices({ host: 'doomed' }))), []);
  t.deepEqual(names(await collect(client.listHosts())), ['hosts/other', 'hosts/src']);
  t.like(server.registry.stats, { hosts: 2, devices: 2 });

  const after = await findAll(t, client, 'hosts/src/devices/gpu0', { includeRejected: true });
  t.deepEqual(names(after.targets), ['hosts/other/devices/gpu0']);
  t.like(after.summary, { revision: '4', candidates: 1 });

  t.deepEqual(
    (await changes(client, { startRevision: 4 })),
    [
      ['4', 'hosts/doomed', 'DELETED'],
      ['4', 'hosts/doomed/devices/gpu0', 'DELETED'],
      ['4', 'hosts/doomed/devices/gpu1', 'DELETED'],
    ],
  );
  for (const entry of await historyOf(client, { startRevision: 4 })) {
    t.is(entry.after, null, `${entry.resource}: nothing after a deletion`);
    t.truthy(entry.before?.host ?? entry.before?.device, `${entry.resource}: what was deleted`);
  }
  const [hostEntry] = await historyOf(client, { resource: 'hosts/doomed', startRevision: 4 }).then((es) => es.filter((e) => e.resource === 'hosts/doomed'));
  t.deepEqual(hostEntry.before?.host?.labels, { zone: 'a' });

  // Unknown hosts: NOT_FOUND, and nothing written.
  const missing = await rejectsWith(t, client.deleteHost('hosts/doomed'), grpc.status.NOT_FOUND, 'deleted twice');
  t.is(missing.reason, 'NOT_FOUND');
  await rejectsWith(t, client.deleteHost('never-was'), grpc.status.NOT_FOUND);
  const malformed = await rejectsWith(t, client.deleteHost('hosts/Not A Host'), grpc.status.INVALID_ARGUMENT);
  t.deepEqual(malformed.fieldViolations.map((v) => v.field), ['name']);
  t.is(server.registry.revision, 4);

  // The host can come back: a new creation.
  const back = await client.syncHost({ name: 'doomed', devices: [{ device_id: 'gpu0', descriptor: gvt('1.2.0') }] });
  t.like(back, { revision: '5', devices_created: 1 });
  t.like(back.host, { create_revision: '5' });
  t.like(await client.getDevice('hosts/doomed/devices/gpu0'), { create_revision: '5' });
});

// ---------------------------------------------------------------------------------------
// Group commit

test('50 concurrent syncs of different hosts all commit, with revisions 1..50', async (t) => {
  const { client, server } = await startTestServer(t);
  const hosts = Array.from({ length: 50 }, (_, i) => `host-${String(i).padStart(2, '0')}`);
  const responses = await Promise.all(
    hosts.map((name, i) =>
      client.syncHost({
        name,
        labels: { n: String(i) },
        devices: [
          { device_id: 'gpu0', descriptor: gvt(`1.${i}.0`) },
          // One descriptor, new to the registry, that every host of the batch brings.
          { device_id: 'gpu1', descriptor: gvt('9.9.9') },
        ],
      }),
    ),
  );
  t.deepEqual(
    responses.map((r) => Number(r.revision)).sort((a, b) => a - b),
    Array.from({ length: 50 }, (_, i) => i + 1),
    'distinct revisions 1..50',
  );
  for (const [i, response] of responses.entries()) {
    t.true(response.changed);
    t.is(response.devices_created, 2);
    t.is(response.host.revision, response.revision);
    const host = await client.getHost(hosts[i]);
    t.is(host.revision, response.revision, `${hosts[i]} is at the revision its sync reported`);
    t.deepEqual(host.labels, { n: String(i) });
    const device = await client.getDevice(`hosts/${hosts[i]}/devices/gpu0`);
    t.is(device.descriptor.software_version, `1.${i}.0`);
  }
  t.is(server.registry.revision, 50);
  t.is(server.registry.stats.descriptors, 51, 'the shared descriptor is stored once');
  t.is((await collect(client.listHosts())).length, 50);
  t.is((await collect(client.listDevices())).length, 100);
  t.is((await collect(client.listDevices({ software_version_range: '9.9.9' }))).length, 50);
  const history = await historyOf(client);
  t.is(history.length, 150, 'a host entry and two device entries per sync');
  for (const response of responses) {
    t.deepEqual(
      history.filter((e) => e.revision === response.revision).map((e) => e.resource).sort(),
      [response.host.name, `${response.host.name}/devices/gpu0`, `${response.host.name}/devices/gpu1`],
    );
  }
});

test('concurrent syncs of one host both commit, in order, each planned on the other\'s result', async (t) => {
  const { client } = await startTestServer(t);
  const [first, second] = await Promise.all([
    client.syncHost({ name: 'h1', devices: [{ device_id: 'a', descriptor: gvt('1.2.0') }] }),
    client.syncHost({
      name: 'h1',
      labels: { zone: 'b' },
      devices: [
        { device_id: 'a', descriptor: gvt('1.3.0') },
        { device_id: 'b', descriptor: gvt('1.3.0') },
      ],
    }),
  ]);
  t.deepEqual(counts(first), { revision: '1', changed: true, created: 1, updated: 0, deleted: 0 });
  t.deepEqual(counts(second), { revision: '2', changed: true, created: 1, updated: 1, deleted: 0 });
  t.like(await client.getHost('h1'), { revision: '2', create_revision: '1', labels: { zone: 'b' }, device_count: 2 });
  t.is((await client.getDevice('hosts/h1/devices/a')).descriptor.software_version, '1.3.0');
  const [update] = (await historyOf(client, { resource: 'hosts/h1/devices/a', startRevision: 2 }));
  t.is(update.kind, 'CHANGE_KIND_UPDATED');
  t.is(update.before?.device?.descriptor.software_version, '1.2.0');

  // The same sync twice at once: the second finds it already done.
  const same = { name: 'h2', devices: [{ device_id: 'a', descriptor: gvt('1.2.0') }] };
  const [once, twice] = await Promise.all([client.syncHost(same), client.syncHost(same)]);
  t.deepEqual(counts(once), { revision: '3', changed: true, created: 1, updated: 0, deleted: 0 });
  t.deepEqual(counts(twice), { revision: '3', changed: false, created: 0, updated: 0, deleted: 0 });
});

test('a write refused in a concurrent batch leaves no gap in the revisions of the others', async (t) => {
  const { client, server } = await startTestServer(t);
  await client.syncHost({ name: 'guarded', devices: [] }); // revision 1
  const results = await Promise.allSettled([
    ...Array.from({ length: 5 }, (_, i) => client.syncHost({ name: `a${i}`, devices: [] })),
    client.syncHost({ name: 'guarded', labels: { x: 'y' }, devices: [], expected_revision: 0 }),
    client.syncHost({ name: 'BAD HOST', devices: [] }),
    ...Array.from({ length: 5 }, (_, i) => client.syncHost({ name: `b${i}`, devices: [] })),
  ]);
  const refused = results.filter((r) => r.status === 'rejected');
  t.is(refused.length, 2);
  t.deepEqual(
    refused.map((r) => (r as PromiseRejectedResult).reason.code).sort((a, b) => a - b),
    [grpc.status.INVALID_ARGUMENT, grpc.status.ABORTED].sort((a, b) => a - b),
  );
  const revisions = results
    .flatMap((r) => (r.status === 'fulfilled' ? [Number(r.value.revision)] : []))
    .sort((a, b) => a - b);
  t.deepEqual(revisions, [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  t.is(server.registry.revision, 11);
  t.like(await client.getHost('guarded'), { revision: '1', labels: {} });
});

test('label filters follow label changes, removals, deletions, re-creations and restarts', async (t) => {
  const first = await startTestServer(t);
  const device = (id: string, labels: Record<string, string>): DeviceSpec => ({ device_id: id, descriptor: gvt('1.2.0'), labels });
  const hostsWith = async (client: typeof first.client, labels: Record<string, string>) =>
    names(await collect(client.listHosts({ labels })));
  const devicesWith = async (client: typeof first.client, filter: { labels?: Record<string, string>; host_labels?: Record<string, string> }) =>
    names(await collect(client.listDevices(filter)));
  const findIn = async (client: typeof first.client, hostLabels: Record<string, string>) =>
    names((await findAll(t, client, gvt('1.2.0'), { hostLabels: hostLabels })).targets).sort();

  let { client } = first;
  await client.syncHost({ name: 'h1', labels: { zone: 'a', rack: 'r1' }, devices: [device('d1', { pool: 'x' }), device('d2', { pool: 'y' })] });
  await client.syncHost({ name: 'h2', labels: { zone: 'a' }, devices: [device('d1', { pool: 'x' })] });
  t.deepEqual(await hostsWith(client, { zone: 'a' }), ['hosts/h1', 'hosts/h2']);
  t.deepEqual(await devicesWith(client, { labels: { pool: 'x' } }), ['hosts/h1/devices/d1', 'hosts/h2/devices/d1']);

  // Relabel h1 and its devices: the old labels no longer match, the new ones do.
  await client.syncHost({ name: 'h1', labels: { zone: 'b', rack: 'r1' }, devices: [device('d1', { pool: 'y' }), device('d2', { pool: 'x' })] });
  t.deepEqual(await hostsWith(client, { zone: 'a' }), ['hosts/h2']);
  t.deepEqual(await hostsWith(client, { zone: 'b' }), ['hosts/h1']);
  t.deepEqual(await hostsWith(client, { zone: 'b', rack: 'r1' }), ['hosts/h1']);
  t.deepEqual(await devicesWith(client, { labels: { pool: 'x' } }), ['hosts/h1/devices/d2', 'hosts/h2/devices/d1']);
  t.deepEqual(await devicesWith(client, { host_labels: { zone: 'a' } }), ['hosts/h2/devices/d1']);
  t.deepEqual(await findIn(client, { zone: 'b' }), ['hosts/h1/devices/d1', 'hosts/h1/devices/d2']);

  // A label removed, a device removed then re-added with other labels.
  await client.syncHost({ name: 'h1', labels: { zone: 'b' }, devices: [device('d1', { pool: 'y' })] });
  t.deepEqual(await hostsWith(client, { rack: 'r1' }), []);
  t.deepEqual(await devicesWith(client, { labels: { pool: 'x' } }), ['hosts/h2/devices/d1']);
  await client.syncHost({ name: 'h1', labels: { zone: 'b' }, devices: [device('d1', { pool: 'y' }), device('d2', { pool: 'z' })] });
  t.deepEqual(await devicesWith(client, { labels: { pool: 'z' } }), ['hosts/h1/devices/d2']);
  t.deepEqual(await devicesWith(client, { labels: { pool: 'x' } }), ['hosts/h2/devices/d1']);

  // A deleted host matches nothing; re-created with other labels, it matches only those.
  await client.deleteHost('h2');
  t.deepEqual(await hostsWith(client, { zone: 'a' }), []);
  t.deepEqual(await devicesWith(client, { labels: { pool: 'x' } }), []);
  await client.syncHost({ name: 'h2', labels: { zone: 'c' }, devices: [device('d1', { pool: 'w' })] });
  t.deepEqual(await hostsWith(client, { zone: 'a' }), []);
  t.deepEqual(await hostsWith(client, { zone: 'c' }), ['hosts/h2']);
  t.deepEqual(await devicesWith(client, { labels: { pool: 'x' } }), []);
  t.deepEqual(await devicesWith(client, { labels: { pool: 'w' }, host_labels: { zone: 'c' } }), ['hosts/h2/devices/d1']);
  // And back to its first labels: matched again, once.
  await client.syncHost({ name: 'h2', labels: { zone: 'a' }, devices: [device('d1', { pool: 'x' })] });
  t.deepEqual(await hostsWith(client, { zone: 'a' }), ['hosts/h2']);
  t.deepEqual(await devicesWith(client, { labels: { pool: 'x' } }), ['hosts/h2/devices/d1']);

  // The same answers after a restart.
  client = (await first.restart()).client;
  t.deepEqual(await hostsWith(client, { zone: 'a' }), ['hosts/h2']);
  t.deepEqual(await hostsWith(client, { zone: 'b' }), ['hosts/h1']);
  t.deepEqual(await hostsWith(client, { zone: 'c' }), []);
  t.deepEqual(await devicesWith(client, { labels: { pool: 'y' } }), ['hosts/h1/devices/d1']);
  t.deepEqual(await devicesWith(client, { labels: { pool: 'z' }, host_labels: { zone: 'b' } }), ['hosts/h1/devices/d2']);
  t.deepEqual(await findIn(client, { zone: 'a' }), ['hosts/h2/devices/d1']);
  // And writes go on after it (no stale label row is in the way).
  await client.syncHost({ name: 'h1', labels: { zone: 'a' }, devices: [device('d1', { pool: 'x' })] });
  t.deepEqual(await hostsWith(client, { zone: 'a' }), ['hosts/h1', 'hosts/h2']);
  t.deepEqual(await devicesWith(client, { labels: { pool: 'x' } }), ['hosts/h1/devices/d1', 'hosts/h2/devices/d1']);
});

test('a descriptor read back from the registry is taken back as the same descriptor', async (t) => {
  const { client, server } = await startTestServer(t);
  const original = gvt('v1.2.3', {
    compatible_types: ['i915-GVTg_V4_8'],
    attributes: {
      pci_ids: { set_value: { values: ['591b', '3e92', '591b'] } },
      big: { int_value: '9007199254740993' },
      aggregator: { int_value: 1 },
    },
    rules: {
      pci_ids: { op: 'COMPARE_OP_SUPERSET' },
      aggregator: { op: 'COMPARE_OP_CLAIMABLE', values: [{ int_value: 1 }, { int_value: 2 }] },
    },
  });
  await client.syncHost({ name: 'h1', devices: [{ device_id: 'gpu0', descriptor: original }] });
  const readBack = (await client.getDevice('hosts/h1/devices/gpu0')).descriptor;

  // Resending what was read is no change; registering it elsewhere reuses the same descriptor.
  t.like(await client.syncHost({ name: 'h1', devices: [{ device_id: 'gpu0', descriptor: readBack }] }), { revision: '1', changed: false });
  t.like(await client.syncHost({ name: 'h2', devices: [{ device_id: 'gpu0', descriptor: readBack }] }), { revision: '2', changed: true });
  t.is(server.registry.stats.descriptors, 1);
  t.deepEqual((await client.getDevice('hosts/h2/devices/gpu0')).descriptor, readBack);
  const verdict = await client.check(readBack, 'hosts/h1/devices/gpu0');
  t.is(verdict.verdict, 'VERDICT_COMPATIBLE');
  t.deepEqual(verdict.checks.filter((c) => c.result !== 'CHECK_RESULT_PASS'), []);
});
