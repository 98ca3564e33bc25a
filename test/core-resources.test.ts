// The validation of resource names, ids, labels and whole SyncHost requests
// (server/core/resources.ts), as a caller of the pure functions sees it: which field each
// refusal names and its exact message, every violation of a request listed at once, each limit
// at its exact edge (one under, at, one over), and what a valid request becomes (the host id
// without its `hosts/` prefix, labels and devices in key order, capacities and revisions as
// numbers). Pure: no registry, no store, no server; the same refusals through gRPC are covered
// by test/grpc-*.test.ts.

import test, { type ExecutionContext } from 'ava';
import { DomainError, Violations, type FieldViolation } from '../server/core/errors.ts';
import {
  checkDeviceId,
  checkHostId,
  compareDeviceNames,
  deviceName,
  hostName,
  labelsEqual,
  labelsMatch,
  LIMITS,
  optionalRevision,
  parseDeviceName,
  parseHostRef,
  truncate,
  validateActor,
  validateLabels,
  validateSyncHost,
  type DeviceSpecInput,
  type SyncHostInput,
} from '../server/core/resources.ts';
import { validateDescriptor } from '../server/core/validate.ts';
import { NO_CONTROL_CHARACTERS } from '../server/core/values.ts';

const GPU = { vendor: 'nvidia', device_api: 'vfio-pci', type: 'nvidia-a10-4q', software_version: '1.0.0' };
const HOST_MESSAGE = "is not a valid host id (lower-case letters, digits, '.', '_', '-'; at most 253 characters)";
const DEVICE_MESSAGE = "is not a valid device id (letters, digits, '.', '_', ':', '-'; at most 128 characters)";
const LABEL_KEY_MESSAGE = 'label key must match ^[a-z0-9]([a-z0-9._/-]{0,62})$';
const LABEL_VALUE_MESSAGE = 'label value must be a string of at most 256 characters';
const NON_NEGATIVE = 'must be a non-negative integer';

/** The violations one check adds. */
function collect(check: (violations: Violations) => void): FieldViolation[] {
  const violations = new Violations();
  check(violations);
  return violations.list;
}

/** The violations a call throws (it must throw an INVALID_ARGUMENT DomainError). */
function refusal(t: ExecutionContext, call: () => unknown): readonly FieldViolation[] {
  const error = t.throws(call, { instanceOf: DomainError });
  t.is(error?.reason, 'INVALID_ARGUMENT');
  return error?.violations ?? [];
}

function device(id: string, extra: Partial<DeviceSpecInput> = {}): DeviceSpecInput {
  return { device_id: id, descriptor: GPU as never, ...extra };
}

function sync(input: SyncHostInput) {
  return () => validateSyncHost(input);
}

test('resource names: a host and a device name', (t) => {
  t.is(hostName('gpu-1'), 'hosts/gpu-1');
  t.is(deviceName('gpu-1', '0000:3b:00.2'), 'hosts/gpu-1/devices/0000:3b:00.2');
});

test('devices compared by name without building it: the order of their names, host ids that begin others included', (t) => {
  // '-' and '.' sort before the '/' that follows a host id in a name: gpu-1's devices come
  // after gpu-1-a's, though gpu-1 sorts before gpu-1-a as a host id.
  const hosts = ['gpu', 'gpu-1', 'gpu-1-a', 'gpu-10', 'gpu.1', 'gpu_1', 'gpu1', 'gpu-2', 'a', 'z'];
  const devices = ['0000:3b:00.1', '0000:3b:00.10', '0000:3b:00.2', 'a', 'A'];
  const named = hosts.flatMap((host) => devices.map((device) => ({ host, device, name: deviceName(host, device) })));
  const sign = (n: number) => Math.sign(n);
  let pairs = 0;
  for (const a of named) {
    for (const b of named) {
      const byName = a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
      if (sign(compareDeviceNames(a.host, a.device, b.host, b.device)) !== byName) t.fail(`${a.name} against ${b.name}`);
      pairs++;
    }
  }
  t.is(pairs, named.length ** 2);
  t.true(compareDeviceNames('gpu-1', 'a', 'gpu-1-a', 'a') > 0, 'hosts/gpu-1/ sorts after hosts/gpu-1-a/');
});

test('host ids: accepted forms, the exact length limit and the refusal messages', (t) => {
  const check = (id: string) => collect((v) => checkHostId(id, 'host', v));
  for (const id of ['a', '7', 'gpu-1', 'rack1.node_2', 'a'.repeat(253)]) t.deepEqual(check(id), [], id);
  t.deepEqual(check(''), [{ field: 'host', description: 'a host id is required' }]);
  for (const id of ['a'.repeat(254), '-gpu', 'gpu-', 'Gpu', 'gpu/1', 'gpu 1', ' gpu', 'gpu\n']) {
    t.deepEqual(check(id), [{ field: 'host', description: `"${truncate(id)}" ${HOST_MESSAGE}` }], JSON.stringify(id));
  }
  // A long id is quoted cut at 80 characters.
  t.deepEqual(check('B'.repeat(81)), [{ field: 'host', description: `"${'B'.repeat(80)}…" ${HOST_MESSAGE}` }]);
});

test('device ids: accepted forms, the exact length limit and the refusal messages', (t) => {
  const check = (id: string) => collect((v) => checkDeviceId(id, 'dev', v));
  for (const id of ['a', 'Z', '0000:3b:00.2', '0.0.1234', 'f3b1c2d4-0000-4000-8000-000000000001', 'A'.repeat(128)]) {
    t.deepEqual(check(id), [], id);
  }
  t.deepEqual(check(''), [{ field: 'dev', description: 'a device id is required' }]);
  for (const id of ['A'.repeat(129), ':gpu', 'gpu:', 'gpu/1', 'gpu 1', '.a', 'a-']) {
    t.deepEqual(check(id), [{ field: 'dev', description: `"${truncate(id)}" ${DEVICE_MESSAGE}` }], JSON.stringify(id));
  }
});

test('parseHostRef: takes a host name or a bare id, refuses anything else naming the field', (t) => {
  t.is(parseHostRef('hosts/gpu-1', 'parent'), 'gpu-1');
  t.is(parseHostRef('gpu-1', 'parent'), 'gpu-1');
  // Only a leading `hosts/` is a prefix.
  t.deepEqual(refusal(t, () => parseHostRef('gpu-1/hosts/', 'parent')), [
    { field: 'parent', description: `"gpu-1/hosts/" ${HOST_MESSAGE}` },
  ]);
  t.deepEqual(refusal(t, () => parseHostRef('hosts/', 'parent')), [{ field: 'parent', description: 'a host id is required' }]);
  t.deepEqual(refusal(t, () => parseHostRef('', 'parent')), [{ field: 'parent', description: 'a host id is required' }]);
});

test('parseDeviceName: the parts of a device name; a malformed name or bad ids are refused', (t) => {
  t.deepEqual(parseDeviceName('hosts/gpu-1/devices/0000:3b:00.2', 'name'), { hostId: 'gpu-1', deviceId: '0000:3b:00.2' });
  for (const text of ['gpu-1/devices/a', 'xhosts/gpu-1/devices/a', 'hosts/gpu-1/devices/a/b', 'hosts/gpu-1/devices/a/', 'hosts/gpu-1']) {
    const error = t.throws(() => parseDeviceName(text, 'name'), { instanceOf: DomainError });
    t.is(error?.reason, 'INVALID_ARGUMENT', text);
    t.deepEqual(error?.violations, [{ field: 'name', description: `"${text}" is not a device name (hosts/{host}/devices/{device})` }], text);
    t.is(error?.message, `name: "${text}" is not a device name (hosts/{host}/devices/{device})`, text);
  }
  // Both ids checked, both refusals listed under the one field.
  t.deepEqual(refusal(t, () => parseDeviceName('hosts/Bad/devices/', 'name')), [
    { field: 'name', description: `"Bad" ${HOST_MESSAGE}` },
    { field: 'name', description: 'a device id is required' },
  ]);
});

test('labels: at most 64, keys by the pattern, values at most 256 printable characters', (t) => {
  const labelsOf = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${String(i).padStart(2, '0')}`, 'v']));
  t.deepEqual(collect((v) => validateLabels(labelsOf(LIMITS.labelsPerResource), 'labels', v)), []);
  t.deepEqual(collect((v) => validateLabels(labelsOf(65), 'labels', v)), [{ field: 'labels', description: 'at most 64 labels, got 65' }]);

  const keyCheck = (key: string) => collect((v) => validateLabels({ [key]: 'v' }, 'labels', v));
  for (const key of ['a', '0', 'a-', 'team/gpu', 'x.y_z', 'a'.repeat(63)]) t.deepEqual(keyCheck(key), [], key);
  for (const key of ['', 'A', 'Team', '-ab', '/a', 'a b', 'a:b', 'a'.repeat(64)]) {
    t.deepEqual(keyCheck(key), [{ field: `labels["${key}"]`, description: LABEL_KEY_MESSAGE }], JSON.stringify(key));
  }

  const valueCheck = (value: unknown) => collect((v) => validateLabels({ k: value as string }, 'labels', v));
  t.deepEqual(valueCheck(''), []);
  t.deepEqual(valueCheck('é'.repeat(256)), []);
  t.deepEqual(valueCheck('x'.repeat(257)), [{ field: 'labels["k"]', description: LABEL_VALUE_MESSAGE }]);
  t.deepEqual(valueCheck(7), [{ field: 'labels["k"]', description: LABEL_VALUE_MESSAGE }]);
  for (const value of ['a\nb', '\u0000', 'tab\there', '\u007f', '\u0085']) {
    t.deepEqual(valueCheck(value), [{ field: 'labels["k"]', description: `label value ${NO_CONTROL_CHARACTERS}` }], JSON.stringify(value));
  }
  // An over-long value is refused for its length only, even with a control character in it.
  t.deepEqual(valueCheck('\n'.repeat(257)), [{ field: 'labels["k"]', description: LABEL_VALUE_MESSAGE }]);
  // A long key is quoted cut in the path.
  const long = 'K'.repeat(90);
  t.deepEqual(keyCheck(long), [{ field: `labels["${'K'.repeat(80)}…"]`, description: LABEL_KEY_MESSAGE }]);
});

test('labels: returned in key order, and refused in key order with every problem listed', (t) => {
  const input = { m: '1', z: '2', a: '3', q: '4', b: '5', 'k/x': '6' };
  const violations = new Violations();
  const labels = validateLabels(input, 'labels', violations);
  t.deepEqual(violations.list, []);
  t.deepEqual(Object.keys(labels), ['a', 'b', 'k/x', 'm', 'q', 'z']);
  t.deepEqual(labels, input);
  t.deepEqual(collect((v) => validateLabels(null, 'labels', v)), []);
  t.deepEqual(validateLabels(undefined, 'labels', new Violations()), {});

  const bad = { 'Z': 'ok', 'b': 'x\n', 'A': 'y'.repeat(300), 'c': 'fine' };
  t.deepEqual(collect((v) => validateLabels(bad, 'devices[2].labels', v)), [
    { field: 'devices[2].labels["A"]', description: LABEL_KEY_MESSAGE },
    { field: 'devices[2].labels["A"]', description: LABEL_VALUE_MESSAGE },
    { field: 'devices[2].labels["Z"]', description: LABEL_KEY_MESSAGE },
    { field: 'devices[2].labels["b"]', description: `label value ${NO_CONTROL_CHARACTERS}` },
  ]);
});

test('labelsEqual and labelsMatch', (t) => {
  t.true(labelsEqual({}, {}));
  t.true(labelsEqual({ a: '1', b: '2' }, { b: '2', a: '1' }));
  t.false(labelsEqual({ a: '1' }, { a: '1', b: '2' }));
  t.false(labelsEqual({ a: '1', b: '2' }, { a: '1' }));
  t.false(labelsEqual({ a: '1' }, { a: '2' }));
  t.false(labelsEqual({ a: '1' }, { b: '1' }));

  t.true(labelsMatch({ a: '1', b: '2' }, {}));
  t.true(labelsMatch({ a: '1', b: '2' }, { a: '1' }));
  t.true(labelsMatch({ a: '1', b: '2' }, { b: '2', a: '1' }));
  t.false(labelsMatch({ a: '1', b: '2' }, { a: '2' }));
  t.false(labelsMatch({ a: '1' }, { a: '1', c: '3' }));
  t.false(labelsMatch({}, { a: '1' }));
});

test('truncate: at most 80 characters, a longer text cut with an ellipsis', (t) => {
  t.is(truncate(''), '');
  t.is(truncate('x'.repeat(79)), 'x'.repeat(79));
  t.is(truncate('x'.repeat(80)), 'x'.repeat(80));
  t.is(truncate('x'.repeat(80) + 'y'), 'x'.repeat(80) + '…');
  t.is(truncate('abcdef', 3), 'abc…');
  t.is(truncate('abc', 3), 'abc');
});

test('optionalRevision: absent, a non-negative integer as number or text, or a refusal', (t) => {
  const revision = (value: unknown) => {
    const violations = new Violations();
    return { value: optionalRevision(value as never, 'expected_revision', violations), violations: violations.list };
  };
  t.deepEqual(revision(undefined), { value: undefined, violations: [] });
  t.deepEqual(revision(null), { value: undefined, violations: [] });
  t.deepEqual(revision(0), { value: 0, violations: [] });
  t.deepEqual(revision(1), { value: 1, violations: [] });
  t.deepEqual(revision('42'), { value: 42, violations: [] });
  t.deepEqual(revision(Number.MAX_SAFE_INTEGER), { value: Number.MAX_SAFE_INTEGER, violations: [] });
  const refused = { value: undefined, violations: [{ field: 'expected_revision', description: NON_NEGATIVE }] };
  for (const value of [-1, 1.5, 'abc', 2 ** 53, Number.NaN]) t.deepEqual(revision(value), refused, String(value));
});

test('validateActor: anonymous when absent, printable and at most 256 characters', (t) => {
  t.is(validateActor(undefined), 'anonymous');
  t.is(validateActor(''), 'anonymous');
  t.is(validateActor('alice'), 'alice');
  t.is(validateActor('a'.repeat(LIMITS.actorLength)), 'a'.repeat(256));
  t.is(validateActor('a'.repeat(255)), 'a'.repeat(255));
  t.is(validateActor('spiffe://cluster/ns/é'), 'spiffe://cluster/ns/é');
  for (const actor of ['a'.repeat(257), 'a\nb', '\u0000', 'x\u001f', '\u007f', 'tab\t']) {
    t.deepEqual(refusal(t, () => validateActor(actor)), [
      { field: 'x-devcompat-actor', description: 'must be printable and at most 256 characters' },
    ], JSON.stringify(actor).slice(0, 20));
  }
});

test('SyncHost: a valid request becomes the command, devices in id order, numbers from text', (t) => {
  const command = validateSyncHost({
    name: 'hosts/gpu-1',
    labels: { zone: 'b', rack: 'r1' },
    expected_revision: '3',
    devices: [
      device('0000:3b:00.4', { capacity: { total: '4', available: 2 }, labels: { slot: '4', model: 'a10' } }),
      device('0000:3b:00.2'),
      device('0000:3b:00.3', { capacity: { total: 0, available: 0 }, labels: null }),
      device('0000:3b:00.10', { capacity: { total: 2, available: 2 } }),
      device('0000:3b:00.5', { capacity: { total: 3 } }),
    ],
  });
  const descriptor = validateDescriptor(GPU as never);
  t.deepEqual(command, {
    hostId: 'gpu-1',
    labels: { rack: 'r1', zone: 'b' },
    expectedRevision: 3,
    budgets: [],
    devices: [
      { deviceId: '0000:3b:00.10', descriptor, capacity: { total: 2, available: 2 }, labels: {} },
      { deviceId: '0000:3b:00.2', descriptor, capacity: undefined, labels: {} },
      { deviceId: '0000:3b:00.3', descriptor, capacity: { total: 0, available: 0 }, labels: {} },
      { deviceId: '0000:3b:00.4', descriptor, capacity: { total: 4, available: 2 }, labels: { model: 'a10', slot: '4' } },
      { deviceId: '0000:3b:00.5', descriptor, capacity: { total: 3, available: 0 }, labels: {} },
    ],
  });
  t.deepEqual(Object.keys(command.labels), ['rack', 'zone']);
  t.deepEqual(Object.keys(command.devices[3]!.labels), ['model', 'slot']);

  // A bare host id, no devices, no labels, no revision: an empty host.
  t.deepEqual(validateSyncHost({ name: 'gpu-2' }), { hostId: 'gpu-2', labels: {}, devices: [], expectedRevision: undefined, budgets: [] });
  t.deepEqual(validateSyncHost({ name: 'gpu-2', devices: null, labels: null, expected_revision: null, budgets: null }), {
    hostId: 'gpu-2', labels: {}, devices: [], expectedRevision: undefined, budgets: [],
  });
  t.is(validateSyncHost({ name: 'gpu-2', expected_revision: 0 }).expectedRevision, 0);
});

test('SyncHost: the host name, its labels and expected revision are refused by field', (t) => {
  t.deepEqual(refusal(t, sync({})), [{ field: 'name', description: 'a host id is required' }]);
  t.deepEqual(refusal(t, sync({ name: null })), [{ field: 'name', description: 'a host id is required' }]);
  t.deepEqual(refusal(t, sync({ name: 'hosts/' })), [{ field: 'name', description: 'a host id is required' }]);
  // Only a leading `hosts/` is stripped.
  t.deepEqual(refusal(t, sync({ name: 'gpu-1/hosts/' })), [{ field: 'name', description: `"gpu-1/hosts/" ${HOST_MESSAGE}` }]);
  t.deepEqual(refusal(t, sync({ name: 'hosts/hosts/gpu-1' })), [{ field: 'name', description: `"hosts/gpu-1" ${HOST_MESSAGE}` }]);

  const error = t.throws(sync({ name: 'Bad Host', labels: { 'Bad Key': 'v', ok: 'x\u0007' }, expected_revision: -2 }), { instanceOf: DomainError });
  t.deepEqual(error?.violations, [
    { field: 'name', description: `"Bad Host" ${HOST_MESSAGE}` },
    { field: 'labels["Bad Key"]', description: LABEL_KEY_MESSAGE },
    { field: 'labels["ok"]', description: `label value ${NO_CONTROL_CHARACTERS}` },
    { field: 'expected_revision', description: NON_NEGATIVE },
  ]);
  t.is(error?.message, `name: "Bad Host" ${HOST_MESSAGE} (and 3 more)`);
});

test('SyncHost: at most 4096 devices; one more is refused alone, before any device is looked at', (t) => {
  const devices = Array.from({ length: LIMITS.devicesPerHost }, (_, i) => device(`d${String(i).padStart(4, '0')}`));
  const command = validateSyncHost({ name: 'big', devices });
  t.is(command.devices.length, 4096);
  t.is(command.devices[4095]!.deviceId, 'd4095');

  const tooMany = [...devices, device('bad id', { descriptor: null })];
  t.deepEqual(refusal(t, sync({ name: 'big', devices: tooMany })), [
    { field: 'devices', description: 'at most 4096 devices per host, got 4097' },
  ]);
  // The refusals found before the count stay listed with it.
  t.deepEqual(refusal(t, sync({ name: '', devices: tooMany })), [
    { field: 'name', description: 'a host id is required' },
    { field: 'devices', description: 'at most 4096 devices per host, got 4097' },
  ]);
});

test('SyncHost: device ids, duplicates and missing descriptors are refused at their index', (t) => {
  t.deepEqual(
    refusal(t, sync({
      name: 'gpu-1',
      devices: [
        device('a'),
        { descriptor: GPU as never },
        device('a'),
        device('-x', { descriptor: null }),
        { device_id: 'c' },
        device('a'.repeat(129)),
      ],
    })),
    [
      { field: 'devices[1].device_id', description: 'a device id is required' },
      { field: 'devices[2].device_id', description: 'duplicate device id "a"' },
      { field: 'devices[3].device_id', description: `"-x" ${DEVICE_MESSAGE}` },
      { field: 'devices[3].descriptor', description: 'a descriptor is required' },
      { field: 'devices[4].descriptor', description: 'a descriptor is required' },
      { field: 'devices[5].device_id', description: `"${'a'.repeat(80)}…" ${DEVICE_MESSAGE}` },
    ],
  );
  // Two devices without an id: the second is also a duplicate of the first.
  t.deepEqual(refusal(t, sync({ name: 'gpu-1', devices: [{ descriptor: GPU as never }, { device_id: null, descriptor: GPU as never }] })), [
    { field: 'devices[0].device_id', description: 'a device id is required' },
    { field: 'devices[1].device_id', description: 'a device id is required' },
    { field: 'devices[1].device_id', description: 'duplicate device id ""' },
  ]);
});

test('SyncHost: device labels, capacities and descriptors are refused under the device path, all at once', (t) => {
  const error = t.throws(
    sync({
      name: 'Bad',
      devices: [
        device('a', { labels: { 'X': '1' } }),
        device('b', { capacity: { total: 2, available: 3 } }),
        device('c', { descriptor: { ...GPU, vendor: '', bogus: 1 } as never }),
        device('d', { capacity: { total: -1, available: -1 }, labels: { k: 'v'.repeat(257) } }),
      ],
    }),
    { instanceOf: DomainError },
  );
  t.deepEqual(error?.violations, [
    { field: 'name', description: `"Bad" ${HOST_MESSAGE}` },
    { field: 'devices[0].labels["X"]', description: LABEL_KEY_MESSAGE },
    { field: 'devices[1].capacity.available', description: 'available (3) exceeds total (2)' },
    { field: 'devices[2].descriptor.bogus', description: 'unknown field "bogus"' },
    { field: 'devices[2].descriptor.vendor', description: 'must be set (non-empty)' },
    { field: 'devices[3].labels["k"]', description: LABEL_VALUE_MESSAGE },
    { field: 'devices[3].capacity.total', description: NON_NEGATIVE },
  ]);
  t.is(error?.message, `name: "Bad" ${HOST_MESSAGE} (and 6 more)`);
});

test('SyncHost: capacity bounds at their edges, total checked before available', (t) => {
  const capacityOf = (capacity: object) => {
    try {
      return validateSyncHost({ name: 'h', devices: [device('a', { capacity: capacity as never })] }).devices[0]!.capacity;
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      return error.violations;
    }
  };
  t.deepEqual(capacityOf({ total: 0, available: 0 }), { total: 0, available: 0 });
  t.deepEqual(capacityOf({}), { total: 0, available: 0 });
  t.deepEqual(capacityOf({ total: null, available: null }), { total: 0, available: 0 });
  t.deepEqual(capacityOf({ total: 5, available: 5 }), { total: 5, available: 5 });
  t.deepEqual(capacityOf({ total: 5, available: 4 }), { total: 5, available: 4 });
  t.deepEqual(capacityOf({ total: '9007199254740991', available: '1' }), { total: Number.MAX_SAFE_INTEGER, available: 1 });
  t.deepEqual(capacityOf({ total: 5, available: 6 }), [{ field: 'devices[0].capacity.available', description: 'available (6) exceeds total (5)' }]);
  t.deepEqual(capacityOf({ available: 1 }), [{ field: 'devices[0].capacity.available', description: 'available (1) exceeds total (0)' }]);
  for (const total of [-1, 1.5, 2 ** 53, 'x']) {
    t.deepEqual(capacityOf({ total, available: -1 }), [{ field: 'devices[0].capacity.total', description: NON_NEGATIVE }], String(total));
  }
  for (const available of [-1, 0.5, 'x']) {
    t.deepEqual(capacityOf({ total: 5, available }), [{ field: 'devices[0].capacity.available', description: NON_NEGATIVE }], String(available));
  }
  t.deepEqual(capacityOf({ total: 2 ** 53 + 2, available: 2 ** 53 }), [{ field: 'devices[0].capacity.total', description: NON_NEGATIVE }]);
});

test('SyncHost: a failure other than bad input in a descriptor is not turned into a violation', (t) => {
  const descriptor = {
    ...GPU,
    get type(): string {
      throw new RangeError('broken getter');
    },
  };
  t.throws(sync({ name: 'h', devices: [device('a', { descriptor: descriptor as never })] }), {
    instanceOf: RangeError,
    message: 'broken getter',
  });
});

test('SyncHost: devices come back in device id order, whatever order the request gave', (t) => {
  const ids = (names: string[]) => validateSyncHost({ name: 'gpu-1', devices: names.map((name) => device(name)) }).devices.map((d) => d.deviceId);
  t.deepEqual(ids(['a', 'b', 'c']), ['a', 'b', 'c']);
  t.deepEqual(ids(['c', 'a', 'b']), ['a', 'b', 'c']);
  t.deepEqual(ids(['a', 'c', 'b']), ['a', 'b', 'c']);
  t.deepEqual(ids(['b']), ['b']);
  t.deepEqual(ids([]), []);
});
