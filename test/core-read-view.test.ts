// The read view (server/core/read-view.ts) through the registry: `registry.read()` (now) and
// `registry.read({ revision })` (a past revision) answer the same calls, device, resolve,
// resolveSource, listDevices and findTargets, with the same errors: NOT_FOUND for a device
// that does not exist at the view's revision, INVALID_ARGUMENT naming the request's field for
// a bad name, a bad inline descriptor or a reference that names nothing. On the in-memory
// store with a manual clock.

import test from 'ava';
import { DomainError } from '../server/core/errors.ts';
import type { DeviceListQuery } from '../server/core/live-state.ts';
import type { ReadView } from '../server/core/registry.ts';
import { FIND, GPU, openCore, ORIGIN, syncOf } from './helpers/core.ts';

const NEWER = { ...GPU, software_version: '1.1.0' };
const OTHER = { ...GPU, type: 'nvidia-a10-8q' };
const ALL: DeviceListQuery = { descriptorIds: undefined, hostId: undefined, labels: {}, hostLabels: {}, after: undefined, limit: 100 };
const REQUIRED = 'required: a registered device name or an inline descriptor';
const mem = (available: number) => ({ budget_id: 'mem', parent: 'card0', total: 8, available, consumption: { gpu0: 2 } });

/**
 * Revision 1: host a (gpu0, GPU; budget mem with 6 free). Revision 2: host b (gpu0, OTHER).
 * Revision 3: host a again, gpu0 now NEWER, budget mem with 2 free, and gpu1 added.
 */
async function history() {
  const rig = await openCore();
  const { registry } = rig;
  await registry.syncHost(syncOf('a', [{ id: 'gpu0', available: 1 }], {}, [mem(6)]), ORIGIN);
  await registry.syncHost(syncOf('b', [{ id: 'gpu0', descriptor: OTHER }]), ORIGIN);
  await registry.syncHost(syncOf('a', [{ id: 'gpu0', descriptor: NEWER, available: 3 }, 'gpu1'], {}, [mem(2)]), ORIGIN);
  return { ...rig, now: await registry.read(), past: await registry.read({ revision: 1 }) };
}

/** Runs `call`, which must fail with a DomainError; returns [reason, message, violations]. */
async function failure(call: () => Promise<unknown>) {
  try {
    await call();
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    return [error.reason, error.message, error.violations.map((v) => `${v.field}: ${v.description}`)];
  }
  throw new Error('expected a DomainError');
}

const budgetsOf = (budgets: readonly { budgetId: string; total: number; available: number }[]) =>
  budgets.map((b) => `${b.budgetId} ${b.available}/${b.total}`);

test('device: the record, name, descriptor and host budgets at the view revision', async (t) => {
  const { now, past } = await history();
  t.deepEqual([now.revision, past.revision], [3, 1]);

  const current = await now.device('a', 'gpu0');
  t.is(current.name, 'hosts/a/devices/gpu0');
  t.is(current.descriptor.softwareVersion.text, '1.1.0');
  t.deepEqual(current.record.capacity, { total: 4, available: 3 });
  t.deepEqual(budgetsOf(current.budgets), ['mem 2/8']);

  const then = await past.device('a', 'gpu0');
  t.is(then.name, 'hosts/a/devices/gpu0');
  t.is(then.descriptor.softwareVersion.text, '1.0.0');
  t.deepEqual(budgetsOf(then.budgets), ['mem 6/8']);

  t.deepEqual((await now.device('b', 'gpu0')).budgets, [], 'a host without budgets: none');
});

test('device: NOT_FOUND for a device, or a host, that does not exist at the view revision', async (t) => {
  const { now, past } = await history();
  t.deepEqual((await failure(() => now.device('a', 'gpu9')))[0], 'NOT_FOUND');
  t.deepEqual((await failure(() => now.device('zz', 'gpu0')))[0], 'NOT_FOUND');
  t.deepEqual((await failure(() => past.device('a', 'gpu1')))[0], 'NOT_FOUND', 'gpu1 came at revision 3');
  t.deepEqual((await failure(() => past.device('b', 'gpu0')))[0], 'NOT_FOUND', 'host b came at revision 2');
  t.is((await now.device('a', 'gpu1')).name, 'hosts/a/devices/gpu1');
});

test('the current view follows the registry: its revision and devices are those of each call', async (t) => {
  const { registry, now } = await history();
  await registry.syncHost(syncOf('c', ['gpu0']), ORIGIN);
  t.is(now.revision, 4);
  t.is((await now.device('c', 'gpu0')).name, 'hosts/c/devices/gpu0');
});

for (const call of ['resolve', 'resolveSource'] as const) {
  test(`${call} by name: the device and its descriptor at the view revision`, async (t) => {
    const { now, past } = await history();
    const current = await now[call]({ name: 'hosts/a/devices/gpu0' }, 'source');
    t.is(current.device?.name, 'hosts/a/devices/gpu0');
    t.is(current.descriptor.softwareVersion.text, '1.1.0');
    const then = await past[call]({ name: 'hosts/a/devices/gpu0' }, 'source');
    t.is(then.device?.name, 'hosts/a/devices/gpu0');
    t.is(then.descriptor.softwareVersion.text, '1.0.0');
    t.deepEqual(then.device?.record.capacity, { total: 4, available: 1 });
    t.is((await failure(() => past[call]({ name: 'hosts/a/devices/gpu1' }, 'source')))[0], 'NOT_FOUND');
    t.is((await failure(() => now[call]({ name: 'hosts/a/devices/gpu9' }, 'source')))[0], 'NOT_FOUND');
  });

  test(`${call} of an inline descriptor: validated, naming no device`, async (t) => {
    const { now, past } = await history();
    for (const view of [now, past]) {
      const resolved = await view[call]({ descriptor: OTHER as never }, 'target');
      t.is(resolved.device, undefined);
      t.is(resolved.descriptor.type, 'nvidia-a10-8q');
      t.is(resolved.descriptor.softwareVersion.text, '1.0.0');
    }
  });

  test(`${call} errors name the request field: a bad name, a bad inline descriptor, nothing at all`, async (t) => {
    const { now, past } = await history();
    for (const view of [now, past] as ReadView[]) {
      const badName = await failure(() => view[call]({ name: 'hosts/a/gpu0' }, 'source'));
      t.is(badName[0], 'INVALID_ARGUMENT');
      t.deepEqual(badName[2], ['source.name: "hosts/a/gpu0" is not a device name (hosts/{host}/devices/{device})']);
      const badDescriptor = await failure(() => view[call]({ descriptor: { ...GPU, vendor: 7 } as never }, 'target'));
      t.is(badDescriptor[0], 'INVALID_ARGUMENT');
      t.deepEqual(
        (badDescriptor[2] as string[]).map((v) => v.split(':')[0]),
        ['target.descriptor.vendor'],
      );
      for (const nothing of [undefined, null, {}, { name: '' }, { descriptor: null }, { name: '', descriptor: null }]) {
        t.deepEqual(
          await failure(() => view[call](nothing, 'source')),
          ['INVALID_ARGUMENT', `source: ${REQUIRED}`, [`source: ${REQUIRED}`]],
          JSON.stringify(nothing),
        );
      }
    }
  });
}

test('listDevices: a page in (host, device) order at the view revision; an empty descriptor set lists nothing', async (t) => {
  const { now, past, registry } = await history();
  const names = async (view: ReadView, query = ALL) => (await view.listDevices(query)).map((d) => d.name);
  t.deepEqual(await names(now), ['hosts/a/devices/gpu0', 'hosts/a/devices/gpu1', 'hosts/b/devices/gpu0']);
  t.deepEqual(await names(past), ['hosts/a/devices/gpu0']);
  t.deepEqual(await names(await registry.read({ revision: 2 })), ['hosts/a/devices/gpu0', 'hosts/b/devices/gpu0']);
  t.deepEqual(await names(now, { ...ALL, after: { hostId: 'a', deviceId: 'gpu0' }, limit: 1 }), ['hosts/a/devices/gpu1']);

  const other = (await now.listDevices(ALL)).find((d) => d.name === 'hosts/b/devices/gpu0')!.entry.id;
  t.deepEqual(await names(now, { ...ALL, descriptorIds: new Set([other]) }), ['hosts/b/devices/gpu0']);
  for (const view of [now, past]) t.deepEqual(await view.listDevices({ ...ALL, descriptorIds: new Set() }), []);
});

test('findTargets: the targets of the view revision', async (t) => {
  const { now, past } = await history();
  const targets = async (view: ReadView) => {
    const result = await view.findTargets(await view.resolveSource({ descriptor: GPU as never }, 'source'), FIND);
    return [result.revision, ...result.targets.map((target) => target.device.name)];
  };
  t.deepEqual(await targets(now), [3, 'hosts/a/devices/gpu1', 'hosts/a/devices/gpu0'], 'the same software version first, then the newer one');
  t.deepEqual(await targets(past), [1, 'hosts/a/devices/gpu0']);
});
