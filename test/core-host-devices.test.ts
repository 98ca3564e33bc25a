// A host's device table (server/core/host-devices.ts): lookups, replacement and removal by id,
// and iteration in device id order whatever order the devices came in.

import test from 'ava';
import { HostDevices } from '../server/core/host-devices.ts';

const device = (deviceId: string, tag = '') => ({ record: { deviceId }, tag });

test('devices come out in id order (code units) whatever order they were put in; get finds each, and nothing else', (t) => {
  const table = new HostDevices<ReturnType<typeof device>>();
  for (const id of ['b', 'a10', 'a2', 'B', 'c', 'a']) table.put(device(id));
  t.deepEqual([...table.keys()], ['B', 'a', 'a10', 'a2', 'b', 'c']);
  t.deepEqual([...table.values()].map((d) => d.record.deviceId), ['B', 'a', 'a10', 'a2', 'b', 'c']);
  t.deepEqual([...table].map(([id]) => id), ['B', 'a', 'a10', 'a2', 'b', 'c']);
  t.is(table.size, 6);
  t.is(table.get('a10')?.record.deviceId, 'a10');
  t.true(table.has('c'));
  t.is(table.get('a1'), undefined);
  t.is(table.get('d'), undefined);
  t.is(table.get(''), undefined);
  t.false(table.has('A'));
});

test('putting a device whose id is there replaces it in place; removing takes exactly that id', (t) => {
  const table = new HostDevices<ReturnType<typeof device>>();
  for (const id of ['x', 'y', 'z']) table.put(device(id, 'old'));
  table.put(device('y', 'new'));
  t.is(table.size, 3);
  t.is(table.get('y')?.tag, 'new');
  t.deepEqual([...table.values()].map((d) => `${d.record.deviceId}:${d.tag}`), ['x:old', 'y:new', 'z:old']);
  t.true(table.remove('y'));
  t.false(table.remove('y'), 'already gone');
  t.false(table.remove('w'), 'never there');
  t.deepEqual([...table.keys()], ['x', 'z']);
  t.true(table.remove('z'));
  t.true(table.remove('x'));
  t.is(table.size, 0);
  t.deepEqual([...table.entries()], []);
  for (const id of ['p', 'q']) table.put(device(id));
  table.clear();
  t.is(table.size, 0);
  t.is(table.get('p'), undefined);
});

test('forEach visits each device with its id and the table, in id order', (t) => {
  const table = new HostDevices<ReturnType<typeof device>>();
  for (const id of ['2', '1']) table.put(device(id));
  const seen: string[] = [];
  table.forEach((value, key, map) => {
    t.is(map, table);
    seen.push(`${key}=${value.record.deviceId}`);
  });
  t.deepEqual(seen, ['1=1', '2=2']);
});
