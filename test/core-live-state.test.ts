// The live state (server/core/live-state.ts) on its own: what a load builds, what each committed
// change does to the hosts, devices and every index, and the exact answers of the reads the
// indexes serve (list pages and cursors under every filter, descriptor lookups, host states).
// Most tests build a LiveState from a hand-made load and apply hand-made changes, so that each
// index is checked by the answer a user gets; the last ones go through openCore() and a
// restart on the same memory store. Fast: no server, no SQLite, no network.

import test from 'ava';
import { DomainError } from '../server/core/errors.ts';
import { descriptorEntry, deviceRecordOf } from '../server/core/live-device.ts';
import {
  hostIsEligible,
  hostState,
  isCandidate,
  LiveState,
  type DeviceListQuery,
  type LiveDevice,
  type LiveHost,
} from '../server/core/live-state.ts';
import type { Capacity, Descriptor } from '../server/core/model.ts';
import type { Labels } from '../server/core/resources.ts';
import type { DeviceRecord, HostRecord, LoadedState } from '../server/core/store.ts';
import { validateDescriptor } from '../server/core/validate.ts';
import { LiveStateLoad } from '../server/core/state-load.ts';
import { GPU, openCore, ORIGIN, syncOf } from './helpers/core.ts';

// ---------------------------------------------------------------------------------------
// Builders

function descriptor(fields: { vendor?: string; device_api?: string; type?: string; version?: string; compatible?: string[] } = {}): Descriptor {
  return validateDescriptor({
    vendor: fields.vendor ?? 'nvidia',
    device_api: fields.device_api ?? 'vfio-pci',
    type: fields.type ?? 'a10-4q',
    software_version: fields.version ?? '1.0.0',
    ...(fields.compatible && { compatible_types: fields.compatible }),
  });
}

function hostRecord(hostId: string, labels: Labels = {}, state: { reachable?: boolean; draining?: boolean } = {}): HostRecord {
  return {
    hostId,
    labels,
    revision: 1,
    createRevision: 1,
    createTime: 0,
    updateTime: 0,
    lastSyncTime: 0,
    reachable: state.reachable ?? true,
    draining: state.draining ?? false,
  };
}

function deviceRecord(hostId: string, deviceId: string, descriptorId: number, labels: Labels = {}, capacity?: Capacity): DeviceRecord {
  return { hostId, deviceId, descriptorId, capacity, labels, revision: 1, createRevision: 1, createTime: 0, updateTime: 0 };
}

function load(parts: { descriptors?: [number, Descriptor][]; hosts?: HostRecord[]; devices?: DeviceRecord[] } = {}): LiveState {
  const loaded: LoadedState = {
    revision: 7,
    revisionTime: 7000,
    descriptors: (parts.descriptors ?? []).map(([id, d]) => ({ id, key: d.key })),
    hosts: parts.hosts ?? [],
    devices: parts.devices ?? [],
    leaseExpiries: new Map(),
    headHash: 'head',
    checkpoint: { revision: 0, hash: '' },
  };
  return new LiveState(loaded, () => 0);
}

const NONE: DeviceListQuery = { descriptorIds: undefined, hostId: undefined, labels: {}, hostLabels: {}, after: undefined, limit: 100 };
const names = (devices: readonly LiveDevice[]) => devices.map((device) => device.name);
const hostIds = (hosts: readonly LiveHost[]) => hosts.map((host) => host.record.hostId);
const notReady = (state: LiveState) => [...state.hostsNotReady()].map((host) => host.record.hostId).sort();

const A10 = descriptor();
const A10_NEW = descriptor({ version: '2.0.0' });
const A16 = descriptor({ type: 'a16-2q', compatible: ['a10-4q'] });
const AMD = descriptor({ vendor: 'amd', type: 'a10-4q' });
const MDEV = descriptor({ device_api: 'mdev' });

/**
 * A small fleet whose index sets differ in size, inserted out of order, so that the smallest
 * candidate set of a filtered listing holds devices the other filters must drop:
 *   host a (zone z1, pool p): a/gpu2 A10 {role: r}, a/gpu0 A10, a/gpu1 A16 {role: r}
 *   host c (zone z1):         c/gpu0 A10 {role: r}, c/gpu1 A10
 *   host b (zone z2, pool p): b/gpu1 A10 {role: r}, b/gpu0 A16
 */
function fleet(): LiveState {
  return load({
    descriptors: [
      [1, A10],
      [2, A16],
      [3, AMD],
    ],
    hosts: [hostRecord('c', { zone: 'z1' }), hostRecord('a', { zone: 'z1', pool: 'p' }), hostRecord('b', { zone: 'z2', pool: 'p' })],
    devices: [
      deviceRecord('c', 'gpu0', 1, { role: 'r' }),
      deviceRecord('c', 'gpu1', 1),
      deviceRecord('b', 'gpu1', 1, { role: 'r' }),
      deviceRecord('b', 'gpu0', 2),
      deviceRecord('a', 'gpu2', 1, { role: 'r' }),
      deviceRecord('a', 'gpu0', 1),
      deviceRecord('a', 'gpu1', 2, { role: 'r' }),
    ],
  });
}

const list = (state: LiveState, query: Partial<DeviceListQuery>) => names(state.listDevices({ ...NONE, ...query }));
const short = (all: string[]) => all.map((name) => name.replace(/^hosts\/(\w+)\/devices\//, '$1/'));

// ---------------------------------------------------------------------------------------
// Host states

test('a host state: unreachable wins over draining, then draining, else ready', (t) => {
  t.is(hostState(hostRecord('h', {}, { reachable: false, draining: true })), 'UNREACHABLE');
  t.is(hostState(hostRecord('h', {}, { reachable: false, draining: false })), 'UNREACHABLE');
  t.is(hostState(hostRecord('h', {}, { reachable: true, draining: true })), 'DRAINING');
  t.is(hostState(hostRecord('h', {}, { reachable: true, draining: false })), 'READY');
});

test('a host is eligible unless it is unreachable or draining and the caller did not include that', (t) => {
  const none = { includeUnreachable: false, includeDraining: false };
  const unreachable = hostRecord('h', {}, { reachable: false });
  const draining = hostRecord('h', {}, { draining: true });
  t.true(hostIsEligible(hostRecord('h'), none));
  t.false(hostIsEligible(unreachable, none));
  t.true(hostIsEligible(unreachable, { includeUnreachable: true, includeDraining: false }));
  t.false(hostIsEligible(draining, none));
  t.true(hostIsEligible(draining, { includeUnreachable: false, includeDraining: true }));
  t.false(hostIsEligible(hostRecord('h', {}, { reachable: false, draining: true }), { includeUnreachable: true, includeDraining: false }));
});

test('the hosts that are not ready: from the load, and kept as hosts are created, change state and are deleted', (t) => {
  const state = load({
    hosts: [
      hostRecord('ready'),
      hostRecord('gone', {}, { reachable: false }),
      hostRecord('drain', {}, { draining: true }),
    ],
  });
  t.deepEqual(notReady(state), ['drain', 'gone']);

  const change = (host: HostRecord | undefined, hostId = host!.hostId) => state.apply({ hostId, host, upserts: [], deletes: [] });
  change(hostRecord('new-draining', {}, { draining: true }));
  change(hostRecord('new-ready'));
  t.deepEqual(notReady(state), ['drain', 'gone', 'new-draining']);

  change(hostRecord('ready', {}, { draining: true }));
  change(hostRecord('gone'));
  t.deepEqual(notReady(state), ['drain', 'new-draining', 'ready']);

  change(hostRecord('ready', {}, { reachable: false }));
  t.deepEqual(notReady(state), ['drain', 'new-draining', 'ready'], 'still not ready, once');
  change(undefined, 'drain');
  change(hostRecord('new-draining'));
  t.deepEqual(notReady(state), ['ready']);
});

// ---------------------------------------------------------------------------------------
// Load

test('a load builds every host, device and descriptor, with the revision, time and head it was given', (t) => {
  const state = fleet();
  t.deepEqual(state.stats, { hosts: 3, devices: 7, descriptors: 3 });
  t.deepEqual([state.revision, state.revisionTime, state.headHash], [7, 7000, 'head']);
  t.is(state.highestDescriptorId, 3);
  t.is(state.descriptorEntryById(2)?.descriptor.key, A16.key);
  t.is(state.descriptorEntryById(4), undefined);
  t.is(state.entryByKey(AMD.key)?.id, 3);
  t.deepEqual(
    [...state.entryById(1)!.devices].map((device) => device.name).sort(),
    ['hosts/a/devices/gpu0', 'hosts/a/devices/gpu2', 'hosts/b/devices/gpu1', 'hosts/c/devices/gpu0', 'hosts/c/devices/gpu1'],
  );
  t.is(state.newDescriptorEntry(MDEV).id, 4, 'a new descriptor takes the id after the highest loaded');
});

test('a load refuses a device whose host or descriptor is missing, naming the device', (t) => {
  t.throws(() => load({ descriptors: [[1, A10]], devices: [deviceRecord('nohost', 'gpu0', 1)] }), {
    message: 'device nohost/gpu0 refers to a missing host or descriptor',
  });
  t.throws(() => load({ descriptors: [[1, A10]], hosts: [hostRecord('h')], devices: [deviceRecord('h', 'gpu3', 9)] }), {
    message: 'device h/gpu3 refers to a missing host or descriptor',
  });
});

test('a load shares equal label sets and capacities between devices, and keeps those that are already shared', (t) => {
  const labels = { role: 'r' };
  const capacity = { total: 4, available: 2 };
  const first = deviceRecord('h', 'gpu0', 1, labels, capacity);
  const equalLabels = deviceRecord('h', 'gpu1', 1, { role: 'r' }); // no capacity
  const equalCapacity = deviceRecord('h', 'gpu2', 1, labels, { total: 4, available: 2 });
  const both = deviceRecord('h', 'gpu3', 1, { role: 'r' }, { total: 4, available: 2 });
  const state = load({ descriptors: [[1, A10]], hosts: [hostRecord('h')], devices: [first, equalLabels, equalCapacity, both] });
  const record = (id: string) => state.getDevice('h', id).record;

  t.deepEqual(deviceRecordOf(record('gpu0')), first, 'nothing to share: equal to what was loaded');
  t.true((record('gpu0') as object) === state.getDevice('h', 'gpu0'), 'one object per device: the live device is its own record');
  t.is(record('gpu0').labels, labels, 'the loaded label set itself');
  t.is(record('gpu0').capacity, capacity, 'the loaded capacity itself');
  t.is(record('gpu1').labels, labels);
  t.is(record('gpu1').capacity, undefined);
  t.is(record('gpu2').labels, labels);
  t.is(record('gpu2').capacity, capacity);
  t.is(record('gpu3').labels, labels);
  t.is(record('gpu3').capacity, capacity);
  t.deepEqual(deviceRecordOf(record('gpu3')), both, 'a shared copy, equal to what was loaded');
});

// ---------------------------------------------------------------------------------------
// Lookups

test('get and find: a host, a device and a descriptor by id, and NOT_FOUND naming what is missing', (t) => {
  const state = fleet();
  t.is(state.getHost('b').record.hostId, 'b');
  t.is(state.findHost('x'), undefined);
  t.is(state.getDevice('a', 'gpu1').entry.id, 2);
  t.is(state.getDevice('a', 'gpu1').name, 'hosts/a/devices/gpu1');
  t.is(state.findDevice('a', 'gpu9'), undefined);
  t.is(state.findDevice('x', 'gpu0'), undefined);
  const missingHost = t.throws(() => state.getHost('x'), { instanceOf: DomainError, message: 'hosts/x not found' });
  t.is(missingHost.reason, 'NOT_FOUND');
  t.deepEqual(missingHost.metadata, { resource: 'hosts/x' });
  const missingDevice = t.throws(() => state.getDevice('a', 'gpu9'), { instanceOf: DomainError, message: 'hosts/a/devices/gpu9 not found' });
  t.is(missingDevice.reason, 'NOT_FOUND');
  t.deepEqual(missingDevice.metadata, { resource: 'hosts/a/devices/gpu9' });
  t.is(state.descriptorById(3).vendor, 'amd');
  t.throws(() => state.descriptorById(99), { message: 'descriptor 99 is not known' });
  t.deepEqual([...state.allHosts()].map((host) => host.record.hostId).sort(), ['a', 'b', 'c']);
});

test('candidates of a descriptor: the ones of its type and those listing it as compatible, of the same vendor and API', (t) => {
  const state = load({
    descriptors: [
      [1, A10],
      [2, A10_NEW],
      [3, A16],
      [4, AMD],
      [5, MDEV],
      [6, descriptor({ type: 'other' })],
    ],
  });
  const ids = (d: Descriptor) => [...state.candidateEntries(d)].map((entry) => entry.id).sort();
  t.deepEqual(ids(A10), [1, 2, 3]);
  t.deepEqual(ids(A16), [3], 'a type nobody lists as compatible: its own descriptors only');
  t.deepEqual(ids(AMD), [4]);
  t.deepEqual(ids(MDEV), [5]);
  t.deepEqual(ids(descriptor({ type: 'unknown' })), []);
  t.deepEqual(ids(descriptor({ type: 'compat-only', compatible: [] })), []);
  const listing = load({ descriptors: [[1, descriptor({ type: 'big', compatible: ['small'] })]] });
  t.deepEqual([...listing.candidateEntries(descriptor({ type: 'small' }))].map((entry) => entry.id), [1], 'only listed as compatible');
});

test('isCandidate: same vendor and API, and the same type or one that lists it as compatible', (t) => {
  t.true(isCandidate(A10, A10_NEW));
  t.true(isCandidate(A10, A16), 'A16 lists a10-4q as compatible');
  t.false(isCandidate(A16, A10), 'A10 does not list a16-2q');
  t.false(isCandidate(A10, AMD), 'another vendor, same type');
  t.false(isCandidate(A10, MDEV), 'another API, same type');
  t.false(isCandidate(A10, descriptor({ vendor: 'amd', type: 'a16-2q', compatible: ['a10-4q'] })), 'another vendor listing it');
  t.false(isCandidate(A10, descriptor({ device_api: 'mdev', type: 'a16-2q', compatible: ['a10-4q'] })), 'another API listing it');
  t.false(isCandidate(A10, descriptor({ type: 'other' })));
});

test('matching descriptor ids: every filter alone and combined; no filter at all means any descriptor', (t) => {
  const state = load({
    descriptors: [
      [1, A10],
      [2, A10_NEW],
      [3, A16],
      [4, AMD],
      [5, MDEV],
    ],
  });
  const match = (filter: { vendor?: string; deviceApi?: string; type?: string; versionMatches?: (d: Descriptor) => boolean }) => {
    const ids = state.matchingDescriptorIds({ vendor: '', deviceApi: '', type: '', versionMatches: undefined, ...filter });
    return ids && [...ids].sort();
  };
  const isNew = (d: Descriptor) => d.softwareVersion.text === '2.0.0';
  const isOld = (d: Descriptor) => d.softwareVersion.text === '1.0.0';
  t.is(match({}), undefined);
  t.deepEqual(match({ vendor: 'nvidia' }), [1, 2, 3, 5]);
  t.deepEqual(match({ vendor: 'amd' }), [4]);
  t.deepEqual(match({ deviceApi: 'mdev' }), [5]);
  t.deepEqual(match({ deviceApi: 'vfio-pci' }), [1, 2, 3, 4]);
  t.deepEqual(match({ type: 'a16-2q' }), [3]);
  t.deepEqual(match({ type: 'a10-4q' }), [1, 2, 4, 5]);
  t.deepEqual(match({ versionMatches: isNew }), [2]);
  t.deepEqual(match({ versionMatches: isOld }), [1, 3, 4, 5]);
  t.deepEqual(match({ vendor: 'nvidia', deviceApi: 'vfio-pci' }), [1, 2, 3]);
  t.deepEqual(match({ vendor: 'nvidia', type: 'a10-4q' }), [1, 2, 5]);
  t.deepEqual(match({ deviceApi: 'vfio-pci', type: 'a10-4q' }), [1, 2, 4]);
  t.deepEqual(match({ vendor: 'nvidia', deviceApi: 'vfio-pci', type: 'a10-4q' }), [1, 2]);
  t.deepEqual(match({ vendor: 'nvidia', deviceApi: 'vfio-pci', type: 'a10-4q', versionMatches: isOld }), [1]);
  t.deepEqual(match({ vendor: 'nvidia', deviceApi: 'vfio-pci', type: 'nothing' }), []);
  t.deepEqual(match({ vendor: 'intel' }), []);
});

// ---------------------------------------------------------------------------------------
// ListHosts

test('list hosts: id order, pages of the limit, the cursor exclusive, and a cursor past the end', (t) => {
  const state = fleet();
  const page = (afterHostId: string | undefined, limit: number) => hostIds(state.listHosts({ labels: {}, afterHostId, limit }));
  t.deepEqual(page(undefined, 100), ['a', 'b', 'c']);
  t.deepEqual(page(undefined, 2), ['a', 'b']);
  t.deepEqual(page(undefined, 1), ['a']);
  t.deepEqual(page('b', 2), ['c']);
  t.deepEqual(page('a', 1), ['b']);
  t.deepEqual(page('bb', 5), ['c'], 'a cursor that is not a host: the hosts after it');
  t.deepEqual(page('c', 5), []);
  t.deepEqual(page(undefined, 0), []);
});

test('list hosts by labels: only hosts with every label, in id order, paged with an exclusive cursor', (t) => {
  const state = fleet();
  const page = (labels: Labels, afterHostId?: string, limit = 100) => hostIds(state.listHosts({ labels, afterHostId, limit }));
  t.deepEqual(page({ zone: 'z1' }), ['a', 'c'], 'inserted c before a, listed in id order');
  t.deepEqual(page({ pool: 'p' }), ['a', 'b']);
  t.deepEqual(page({ zone: 'z1' }, undefined, 1), ['a']);
  t.deepEqual(page({ zone: 'z1' }, 'a'), ['c']);
  t.deepEqual(page({ zone: 'z1' }, 'a', 1), ['c']);
  t.deepEqual(page({ zone: 'z1' }, 'b'), ['c']);
  t.deepEqual(page({ zone: 'z1' }, 'c'), []);
  // The smaller set (pool p: a, b) holds b, which is not in z1; the larger one (zone z1: a, c) holds c.
  t.deepEqual(page({ zone: 'z1', pool: 'p' }), ['a']);
  t.deepEqual(page({ pool: 'p', zone: 'z1' }), ['a']);
  t.deepEqual(page({ zone: 'z2', pool: 'p' }), ['b']);
  t.deepEqual(page({ zone: 'z3' }), []);
  t.deepEqual(page({ zone: 'z1', pool: 'none' }), []);
});

// ---------------------------------------------------------------------------------------
// ListDevices

test('list devices without a filter: (host, device) order, limit pages, and a cursor that continues inside its host', (t) => {
  const state = fleet();
  const all = ['a/gpu0', 'a/gpu1', 'a/gpu2', 'b/gpu0', 'b/gpu1', 'c/gpu0', 'c/gpu1'];
  t.deepEqual(short(list(state, {})), all);
  t.deepEqual(short(list(state, { limit: 2 })), ['a/gpu0', 'a/gpu1']);
  t.deepEqual(short(list(state, { limit: 0 })), []);
  t.deepEqual(short(list(state, { after: { hostId: 'a', deviceId: 'gpu0' }, limit: 2 })), ['a/gpu1', 'a/gpu2']);
  t.deepEqual(short(list(state, { after: { hostId: 'a', deviceId: 'gpu2' }, limit: 2 })), ['b/gpu0', 'b/gpu1']);
  t.deepEqual(short(list(state, { after: { hostId: 'b', deviceId: 'gpu0' } })), ['b/gpu1', 'c/gpu0', 'c/gpu1']);
  t.deepEqual(short(list(state, { after: { hostId: 'c', deviceId: 'gpu1' } })), []);
  // Paging through one device at a time yields every device once, in order.
  const paged: string[] = [];
  let after: DeviceListQuery['after'];
  for (let i = 0; i < 20; i++) {
    const page = state.listDevices({ ...NONE, after, limit: 3 });
    paged.push(...short(names(page)));
    if (page.length < 3) break;
    const last = page[page.length - 1];
    after = { hostId: last.record.hostId, deviceId: last.record.deviceId };
  }
  t.deepEqual(paged, all);
});

test('list devices: device ids sort by code unit within a host, whatever order they were added in', (t) => {
  const state = load({
    descriptors: [[1, A10]],
    hosts: [hostRecord('h')],
    devices: ['gpu2', 'gpu10', 'gpu0', 'gpu1'].map((id) => deviceRecord('h', id, 1)),
  });
  t.deepEqual(short(list(state, {})), ['h/gpu0', 'h/gpu1', 'h/gpu10', 'h/gpu2']);
});

test('list devices: a cursor on a host deleted since continues with the next host', (t) => {
  const state = fleet();
  state.apply({ hostId: 'a', host: undefined, upserts: [], deletes: [] });
  t.deepEqual(short(list(state, { after: { hostId: 'a', deviceId: 'gpu0' } })), ['b/gpu0', 'b/gpu1', 'c/gpu0', 'c/gpu1']);
});

test('list devices by host: only that host, its devices in order; an unknown host lists nothing', (t) => {
  const state = fleet();
  t.deepEqual(short(list(state, { hostId: 'b' })), ['b/gpu0', 'b/gpu1']);
  t.deepEqual(short(list(state, { hostId: 'a', limit: 2 })), ['a/gpu0', 'a/gpu1']);
  t.deepEqual(short(list(state, { hostId: 'a', after: { hostId: 'a', deviceId: 'gpu0' } })), ['a/gpu1', 'a/gpu2']);
  t.deepEqual(list(state, { hostId: 'x' }), []);
});

test('list devices by descriptor: the devices of any listed descriptor, across hosts in order; unknown ids match nothing', (t) => {
  const state = fleet();
  t.deepEqual(short(list(state, { descriptorIds: new Set([2]) })), ['a/gpu1', 'b/gpu0']);
  t.deepEqual(short(list(state, { descriptorIds: new Set([2, 99]) })), ['a/gpu1', 'b/gpu0']);
  t.deepEqual(short(list(state, { descriptorIds: new Set([1]) })), ['a/gpu0', 'a/gpu2', 'b/gpu1', 'c/gpu0', 'c/gpu1']);
  t.deepEqual(short(list(state, { descriptorIds: new Set([1, 2]), limit: 3 })), ['a/gpu0', 'a/gpu1', 'a/gpu2']);
  t.deepEqual(short(list(state, { descriptorIds: new Set([1]), after: { hostId: 'a', deviceId: 'gpu2' } })), ['b/gpu1', 'c/gpu0', 'c/gpu1']);
  t.deepEqual(list(state, { descriptorIds: new Set([3]) }), [], 'a descriptor without devices');
  t.deepEqual(list(state, { descriptorIds: new Set([99]) }), []);
  t.deepEqual(list(state, { descriptorIds: new Set() }), []);
});

test('list devices by device labels and by host labels', (t) => {
  const state = fleet();
  t.deepEqual(short(list(state, { labels: { role: 'r' } })), ['a/gpu1', 'a/gpu2', 'b/gpu1', 'c/gpu0']);
  t.deepEqual(short(list(state, { hostLabels: { zone: 'z1' } })), ['a/gpu0', 'a/gpu1', 'a/gpu2', 'c/gpu0', 'c/gpu1']);
  t.deepEqual(short(list(state, { hostLabels: { pool: 'p' } })), ['a/gpu0', 'a/gpu1', 'a/gpu2', 'b/gpu0', 'b/gpu1']);
  t.deepEqual(short(list(state, { hostLabels: { zone: 'z1', pool: 'p' } })), ['a/gpu0', 'a/gpu1', 'a/gpu2']);
  t.deepEqual(list(state, { hostLabels: { zone: 'z9' } }), []);
  t.deepEqual(list(state, { labels: { role: 'x' } }), []);
});

test('list devices: the cursor is exclusive and ordered by host first, under a filter too', (t) => {
  const state = fleet();
  const role = { labels: { role: 'r' } };
  t.deepEqual(short(list(state, { ...role, after: { hostId: 'a', deviceId: 'gpu1' } })), ['a/gpu2', 'b/gpu1', 'c/gpu0']);
  t.deepEqual(short(list(state, { ...role, after: { hostId: 'a', deviceId: 'gpu2' } })), ['b/gpu1', 'c/gpu0']);
  t.deepEqual(short(list(state, { ...role, after: { hostId: 'b', deviceId: 'gpu0' } })), ['b/gpu1', 'c/gpu0'], 'the rest of the cursor host');
  t.deepEqual(short(list(state, { ...role, after: { hostId: 'b', deviceId: 'gpu1' } })), ['c/gpu0']);
  t.deepEqual(short(list(state, { ...role, after: { hostId: 'bb', deviceId: 'a' } })), ['c/gpu0'], 'a later host with a lower device id');
  t.deepEqual(short(list(state, { ...role, after: { hostId: 'c', deviceId: 'gpu0' } })), []);
  t.deepEqual(short(list(state, { ...role, limit: 2 })), ['a/gpu1', 'a/gpu2']);
  t.deepEqual(short(list(state, { ...role, after: { hostId: 'a', deviceId: 'gpu2' }, limit: 1 })), ['b/gpu1']);
});

test('list devices: every combination of filters keeps only devices matching all of them', (t) => {
  const state = fleet();
  const d1 = new Set([1]);
  const d2 = new Set([2]);
  // host a (3 devices) with descriptor 2 (2 devices): the descriptor set is smaller and holds b/gpu0.
  t.deepEqual(short(list(state, { hostId: 'a', descriptorIds: d2 })), ['a/gpu1']);
  // host b (2 devices) with descriptor 1 (5 devices): the host set is smaller and holds b/gpu0 (descriptor 2).
  t.deepEqual(short(list(state, { hostId: 'b', descriptorIds: d1 })), ['b/gpu1']);
  // host a with role r (4 devices): the host holds a/gpu0 without the label.
  t.deepEqual(short(list(state, { hostId: 'a', labels: { role: 'r' } })), ['a/gpu1', 'a/gpu2']);
  // host c (2 devices) with role r (4 devices across hosts a, b, c).
  t.deepEqual(short(list(state, { hostId: 'c', labels: { role: 'r' } })), ['c/gpu0']);
  // host b with zone z1: b is in z2.
  t.deepEqual(list(state, { hostId: 'b', hostLabels: { zone: 'z1' } }), []);
  t.deepEqual(short(list(state, { hostId: 'b', hostLabels: { zone: 'z2' } })), ['b/gpu0', 'b/gpu1']);
  // descriptor 2 (2 devices) with role r (4): b/gpu0 has no role.
  t.deepEqual(short(list(state, { descriptorIds: d2, labels: { role: 'r' } })), ['a/gpu1']);
  // descriptor 1 (5 devices) with role r (4): a/gpu1 has descriptor 2.
  t.deepEqual(short(list(state, { descriptorIds: d1, labels: { role: 'r' } })), ['a/gpu2', 'b/gpu1', 'c/gpu0']);
  // role r (4 devices) on zone z1 hosts (5 devices): b/gpu1 is on z2.
  t.deepEqual(short(list(state, { labels: { role: 'r' }, hostLabels: { zone: 'z1' } })), ['a/gpu1', 'a/gpu2', 'c/gpu0']);
  // zone z2 hosts (2 devices) with role r: b/gpu0 has no role.
  t.deepEqual(short(list(state, { labels: { role: 'r' }, hostLabels: { zone: 'z2' } })), ['b/gpu1']);
  // descriptor 2 (2 devices) on zone z1 hosts: b/gpu0 is on z2.
  t.deepEqual(short(list(state, { descriptorIds: d2, hostLabels: { zone: 'z1' } })), ['a/gpu1']);
  t.deepEqual(short(list(state, { descriptorIds: d1, hostLabels: { zone: 'z2' } })), ['b/gpu1']);
  // all four
  t.deepEqual(short(list(state, { hostId: 'a', descriptorIds: d1, labels: { role: 'r' }, hostLabels: { pool: 'p' } })), ['a/gpu2']);
  t.deepEqual(list(state, { hostId: 'c', descriptorIds: d1, labels: { role: 'r' }, hostLabels: { pool: 'p' } }), []);
});

// ---------------------------------------------------------------------------------------
// Changes

test('a change: devices added, replaced and removed, with counts, descriptor sets and label indexes kept', (t) => {
  const state = fleet();
  t.deepEqual(short(list(state, { labels: { role: 'r' } })), ['a/gpu1', 'a/gpu2', 'b/gpu1', 'c/gpu0']); // the label index exists from here
  const a16 = state.entryById(2)!;
  const a10 = state.entryById(1)!;
  const entry = state.newDescriptorEntry(MDEV);
  state.addDescriptor(entry);
  const result = state.apply({
    hostId: 'a',
    host: hostRecord('a', { zone: 'z1', pool: 'p' }),
    upserts: [
      { record: deviceRecord('a', 'gpu1', 1), entry: a10 }, // was A16 {role: r}
      { record: deviceRecord('a', 'gpu3', entry.id, { role: 'r' }), entry },
    ],
    deletes: [state.getDevice('a', 'gpu2')],
  });
  t.is(result.created, false);
  t.is(result.removed, undefined);
  t.is(result.host, state.getHost('a'), 'the host is the same object for its whole life');
  t.deepEqual(state.stats, { hosts: 3, devices: 7, descriptors: 4 });
  t.deepEqual(short(list(state, { hostId: 'a' })), ['a/gpu0', 'a/gpu1', 'a/gpu3']);
  t.deepEqual(short(list(state, { labels: { role: 'r' } })), ['a/gpu3', 'b/gpu1', 'c/gpu0']);
  t.deepEqual(short(list(state, { descriptorIds: new Set([2]) })), ['b/gpu0']);
  t.deepEqual(short(list(state, { descriptorIds: new Set([entry.id]) })), ['a/gpu3']);
  t.is(a16.devices.size, 1);
  t.is(a10.devices.size, 5);
  t.is(state.getDevice('a', 'gpu1').entry, a10);
});

test('a host whose labels change is found by its new labels only', (t) => {
  const state = fleet();
  state.apply({ hostId: 'c', host: hostRecord('c', { zone: 'z2' }), upserts: [], deletes: [] });
  t.deepEqual(hostIds(state.listHosts({ labels: { zone: 'z2' }, afterHostId: undefined, limit: 10 })), ['b', 'c']);
  t.deepEqual(hostIds(state.listHosts({ labels: { zone: 'z1' }, afterHostId: undefined, limit: 10 })), ['a']);
  t.deepEqual(short(list(state, { hostLabels: { zone: 'z1' } })), ['a/gpu0', 'a/gpu1', 'a/gpu2']);
  t.deepEqual(short(list(state, { hostLabels: { zone: 'z2' } })), ['b/gpu0', 'b/gpu1', 'c/gpu0', 'c/gpu1']);
  // Same labels again (a new object): still found once, by them.
  state.apply({ hostId: 'c', host: hostRecord('c', { zone: 'z2' }), upserts: [], deletes: [] });
  t.deepEqual(hostIds(state.listHosts({ labels: { zone: 'z2' }, afterHostId: undefined, limit: 10 })), ['b', 'c']);
});

test('a host deleted leaves no trace in any index, and one created again starts empty', (t) => {
  const state = fleet();
  t.deepEqual(short(list(state, { labels: { role: 'r' } })), ['a/gpu1', 'a/gpu2', 'b/gpu1', 'c/gpu0']);
  const a = state.getHost('a');
  const deleted = state.apply({ hostId: 'a', host: undefined, upserts: [], deletes: [] });
  t.deepEqual(deleted, { host: undefined, removed: a, created: false });
  t.deepEqual(state.stats, { hosts: 2, devices: 4, descriptors: 3 });
  t.is(state.findHost('a'), undefined);
  t.deepEqual(hostIds(state.listHosts({ labels: {}, afterHostId: undefined, limit: 10 })), ['b', 'c']);
  t.deepEqual(hostIds(state.listHosts({ labels: { pool: 'p' }, afterHostId: undefined, limit: 10 })), ['b']);
  t.deepEqual(short(list(state, {})), ['b/gpu0', 'b/gpu1', 'c/gpu0', 'c/gpu1']);
  t.deepEqual(short(list(state, { descriptorIds: new Set([2]) })), ['b/gpu0']);
  t.deepEqual(short(list(state, { labels: { role: 'r' } })), ['b/gpu1', 'c/gpu0']);
  t.deepEqual(short(list(state, { hostLabels: { zone: 'z1' } })), ['c/gpu0', 'c/gpu1']);
  t.is(state.entryById(1)!.devices.size, 3);
  t.is(state.entryById(2)!.devices.size, 1);

  t.deepEqual(state.apply({ hostId: 'zz', host: undefined, upserts: [], deletes: [] }), { host: undefined, removed: undefined, created: false }, 'deleting an unknown host');

  const again = state.apply({ hostId: 'a', host: hostRecord('a', { zone: 'z3' }, { draining: true }), upserts: [], deletes: [] });
  t.is(again.created, true);
  t.is(again.removed, undefined);
  t.not(again.host, a);
  t.is(again.host, state.getHost('a'));
  t.is(again.host!.devices.size, 0);
  t.deepEqual(notReady(state), ['a']);
  t.deepEqual(hostIds(state.listHosts({ labels: {}, afterHostId: undefined, limit: 10 })), ['a', 'b', 'c']);
  t.deepEqual(hostIds(state.listHosts({ labels: { zone: 'z3' }, afterHostId: undefined, limit: 10 })), ['a']);
  t.deepEqual(list(state, { hostId: 'a' }), []);
  t.deepEqual(state.stats, { hosts: 3, devices: 4, descriptors: 3 });
});

test('committed moves the revision, and the time and head only when given', (t) => {
  const state = load();
  state.committed(8, 8000, 'h8');
  t.deepEqual([state.revision, state.revisionTime, state.headHash], [8, 8000, 'h8']);
  state.committed(9, undefined, undefined);
  t.deepEqual([state.revision, state.revisionTime, state.headHash], [9, 8000, 'h8']);
});

test('descriptor ids: a descriptor added with a higher id moves the next id and the highest past it', (t) => {
  const state = load({ descriptors: [[5, A10]] });
  t.is(state.highestDescriptorId, 5);
  state.addDescriptor(descriptorEntry(10, A16));
  t.is(state.highestDescriptorId, 10);
  state.addDescriptor(descriptorEntry(7, AMD));
  t.is(state.highestDescriptorId, 10, 'a lower id does not lower the highest');
  t.is(state.descriptorEntryById(7)?.descriptor, AMD);
  const fresh = state.newDescriptorEntry(MDEV);
  t.is(fresh.id, 11);
  t.is(state.newDescriptorEntry(A10_NEW).id, 12);
  t.is(state.highestDescriptorId, 10, 'an entry not yet added is not in the table');
  t.deepEqual([...state.candidateEntries(A10)].map((entry) => entry.id).sort((x, y) => x - y), [5, 10]);
});

// ---------------------------------------------------------------------------------------
// Interning

test('interning shares equal label sets and capacities, and drops the table at exactly 100,000 entries', (t) => {
  const state = load();
  const first = { zone: 'z1' };
  t.is(state.intern(first), first);
  t.is(state.intern({ zone: 'z2' }).zone, 'z2');
  t.is(state.intern({ zone: 'z1' }), first, 'an equal set is the first one');
  const capacity = { total: 4, available: 1 };
  t.is(state.internCapacity(capacity), capacity);
  t.is(state.internCapacity({ total: 4, available: 2 })?.available, 2);
  t.is(state.internCapacity({ total: 4, available: 1 }), capacity);
  t.is(state.internCapacity(undefined), undefined);

  // 2 entries so far; fill each table to exactly 100,000.
  for (let i = 2; i < 100_000; i++) {
    state.intern({ n: String(i) });
    state.internCapacity({ total: i, available: 0 });
  }
  t.is(state.intern({ zone: 'z1' }), first, 'still shared at the bound');
  t.is(state.internCapacity({ total: 4, available: 1 }), capacity);
  state.intern({ n: 'one more' });
  state.internCapacity({ total: -1, available: 0 });
  const copy = { zone: 'z1' };
  t.is(state.intern(copy), copy, 'the table was dropped: a new set is kept');
  const capacityCopy = { total: 4, available: 1 };
  t.is(state.internCapacity(capacityCopy), capacityCopy);
});

// ---------------------------------------------------------------------------------------
// Through the registry: a restart on the same memory store

test('a restart builds the same state: hosts, devices, pages, indexes, host states and counts', async (t) => {
  const rig = await openCore();
  const { registry } = rig;
  const A16_GPU = { ...GPU, type: 'nvidia-a16-2q', compatible_types: ['nvidia-a10-4q'] };
  await registry.syncHost(syncOf('c', ['gpu1', { id: 'gpu0', available: 2 }], { zone: 'z1' }), ORIGIN);
  await registry.syncHost(syncOf('a', ['gpu2', { id: 'gpu0', descriptor: A16_GPU }, 'gpu1'], { zone: 'z1', pool: 'p' }), ORIGIN);
  await registry.syncHost(syncOf('b', [{ id: 'gpu0', available: 1 }], { zone: 'z2', pool: 'p' }), ORIGIN);
  await registry.syncHost(syncOf('d', ['gpu0'], { zone: 'z2' }), ORIGIN);
  await registry.setDraining('b', true, ORIGIN);
  await registry.deleteHost('d', undefined, ORIGIN);

  const snapshot = async (r: typeof registry) => {
    const view = await r.read();
    const a16 = r.matchingDescriptorIds({ vendor: 'nvidia', deviceApi: 'vfio-pci', type: 'nvidia-a16-2q', versionMatches: undefined });
    const devices = (query: Partial<DeviceListQuery>) => view.listDevices({ ...NONE, ...query });
    return {
      revision: r.revision,
      headHash: r.headHash,
      stats: { ...r.stats, cachedVerdicts: 0 },
      hosts: r.listHosts({ labels: {}, afterHostId: undefined, limit: 10 }).map((host) => [host.record.hostId, hostState(host.record), host.record.labels]),
      z1: hostIds(r.listHosts({ labels: { zone: 'z1' }, afterHostId: 'a', limit: 10 })),
      devices: (await devices({})).map((device) => [device.name, device.record.capacity, device.record.revision]),
      page: names(await devices({ after: { hostId: 'a', deviceId: 'gpu1' }, limit: 2 })),
      byDescriptor: names(await devices({ descriptorIds: a16 })),
      byHostLabel: names(await devices({ hostLabels: { pool: 'p' } })),
      candidates: [...r.candidateEntries(r.descriptorById([...a16!][0]))].length,
    };
  };
  const before = await snapshot(registry);
  t.deepEqual(before.hosts, [
    ['a', 'READY', { pool: 'p', zone: 'z1' }],
    ['b', 'DRAINING', { pool: 'p', zone: 'z2' }],
    ['c', 'READY', { zone: 'z1' }],
  ]);
  t.deepEqual(before.stats, { hosts: 3, devices: 6, descriptors: 2, cachedVerdicts: 0 });
  t.deepEqual(before.z1, ['c']);
  t.deepEqual(before.page, ['hosts/a/devices/gpu2', 'hosts/b/devices/gpu0']);
  t.deepEqual(before.byDescriptor, ['hosts/a/devices/gpu0']);
  t.deepEqual(before.byHostLabel, ['hosts/a/devices/gpu0', 'hosts/a/devices/gpu1', 'hosts/a/devices/gpu2', 'hosts/b/devices/gpu0']);

  const reopened = await rig.reopen();
  t.deepEqual(await snapshot(reopened.registry), before);
  await reopened.registry.close();
});

/** The fleet's three descriptors as a store gives them (by id and key). */
const STORED_DESCRIPTORS = [
  { id: 1, key: A10.key },
  { id: 2, key: A16.key },
  { id: 3, key: AMD.key },
];

test('a state built from a load in parts (the tables, then device pages, then the head) answers as one built at once', (t) => {
  const whole = fleet();
  const pages: DeviceRecord[][] = [
    [deviceRecord('c', 'gpu0', 1, { role: 'r' }), deviceRecord('c', 'gpu1', 1), deviceRecord('b', 'gpu1', 1, { role: 'r' })],
    [deviceRecord('b', 'gpu0', 2), deviceRecord('a', 'gpu2', 1, { role: 'r' }), deviceRecord('a', 'gpu0', 1), deviceRecord('a', 'gpu1', 2, { role: 'r' })],
  ];
  const load = new LiveStateLoad(1000);
  load.tables({
    descriptors: STORED_DESCRIPTORS,
    hosts: [hostRecord('c', { zone: 'z1' }), hostRecord('a', { zone: 'z1', pool: 'p' }), hostRecord('b', { zone: 'z2', pool: 'p' })],
    leaseExpiries: new Map([['a', 5000], ['c', 5]]),
  });
  // One record object for every device, as SQLite's load hands them: the state keeps none of it.
  const scratch = { ...pages[0][0] };
  for (const page of pages) for (const record of page) load.device(Object.assign(scratch, record));
  const loaded: LoadedState = { ...EMPTY_TABLES, revision: 7, revisionTime: 7000, devices: [], headHash: 'head', checkpoint: { revision: 0, hash: '' } };
  const parts = load.finish(loaded);
  t.deepEqual(parts.stats, whole.stats);
  t.is(parts.revision, 7);
  t.is(parts.revisionTime, 7000);
  t.is(parts.headHash, 'head');
  t.deepEqual(list(parts, {}), list(whole, {}));
  t.deepEqual(list(parts, { labels: { role: 'r' } }), list(whole, { labels: { role: 'r' } }));
  t.deepEqual(hostIds(parts.listHosts({ labels: { pool: 'p' }, afterHostId: undefined, limit: 10 })), ['a', 'b']);
  // Equal label sets on different pages are one object, as in a state built at once.
  t.is(parts.getDevice('c', 'gpu0').record.labels, parts.getDevice('a', 'gpu2').record.labels);
  // Leases as a load gives them: the later of the persisted expiry and the last sync plus the TTL.
  t.is(parts.getHost('a').leaseExpiry, 5000);
  t.is(parts.getHost('b').leaseExpiry, 1000);
  t.is(parts.getHost('c').leaseExpiry, 1000, 'a persisted renewal older than the last sync does not shorten the lease');
  t.throws(() => load.finish(loaded), { message: /gave no tables/ });
});

const EMPTY_TABLES = { descriptors: [], hosts: [], leaseExpiries: new Map<string, number>() };

test('a load handed one reused record object for every device keeps each device its own values', (t) => {
  const records: DeviceRecord[] = [
    { hostId: 'a', deviceId: 'gpu0', descriptorId: 1, capacity: { total: 4, available: 1 }, labels: { role: 'r' }, revision: 3, createRevision: 2, createTime: 200, updateTime: 300 },
    { hostId: 'a', deviceId: 'gpu1', descriptorId: 2, capacity: undefined, labels: {}, revision: 5, createRevision: 5, createTime: 500, updateTime: 500 },
    { hostId: 'b', deviceId: 'vf0', descriptorId: 3, capacity: { total: 8, available: 8 }, labels: { role: 's', slot: '1' }, revision: 9, createRevision: 1, createTime: 100, updateTime: 900 },
  ];
  const load = new LiveStateLoad(1000);
  load.tables({
    descriptors: STORED_DESCRIPTORS,
    hosts: [hostRecord('a', {}), hostRecord('b', {})],
    leaseExpiries: new Map(),
  });
  const scratch = { ...records[0] };
  for (const record of records) load.device(Object.assign(scratch, record));
  // Whatever the store does with its record afterwards is not the state's.
  Object.assign(scratch, { hostId: 'a', deviceId: 'junk', descriptorId: 2, capacity: { total: 1, available: 0 }, labels: { junk: 'x' }, revision: 99, createRevision: 99, createTime: 9, updateTime: 9 });
  const state = load.finish({ ...EMPTY_TABLES, revision: 9, revisionTime: 900, devices: [], headHash: 'head', checkpoint: { revision: 0, hash: '' } });
  for (const record of records) {
    const { hostId, deviceId, descriptorId, capacity, labels, revision, createRevision, createTime, updateTime } = state.getDevice(record.hostId, record.deviceId).record;
    t.deepEqual({ hostId, deviceId, descriptorId, capacity, labels, revision, createRevision, createTime, updateTime }, record, `${record.hostId}/${record.deviceId}`);
  }
  t.is(state.stats.devices, 3);
});

test('a load out of order is refused by name: devices before the tables, the tables twice', (t) => {
  const load = new LiveStateLoad(1000);
  t.throws(() => load.device(deviceRecord('a', 'gpu0', 1)), { message: 'the load gave devices before its tables' });
  load.tables(EMPTY_TABLES);
  t.throws(() => load.tables(EMPTY_TABLES), { message: 'the load gave its tables twice' });
});
