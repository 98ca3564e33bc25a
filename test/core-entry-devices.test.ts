// EntryDevices (server/core/entry-devices.ts): a descriptor entry's live devices as an array,
// each device holding its place. Adding, removing from any place, removing what is not there,
// and that every device left is found and iterated exactly once.

import test from 'ava';
import { EntryDevices, type Places } from '../server/core/entry-devices.ts';

interface Device {
  readonly id: string;
  place: number;
}

const places: Places<Device> = { get: (device) => device.place, set: (device, place) => void (device.place = place) };
const device = (id: string): Device => ({ id, place: -1 });
const ids = (devices: EntryDevices<Device>) => [...devices].map((d) => d.id).sort();

test('devices added are counted, found and iterated once each', (t) => {
  const devices = new EntryDevices(places);
  const all = ['a', 'b', 'c', 'd'].map(device);
  for (const d of all) devices.add(d);
  t.is(devices.size, 4);
  t.deepEqual(ids(devices), ['a', 'b', 'c', 'd']);
  t.deepEqual([...devices.values()].map((d) => d.id).sort(), ['a', 'b', 'c', 'd']);
  for (const d of all) t.true(devices.has(d), d.id);
  t.false(devices.has(device('a')), 'an equal device that was never added is not there');
});

test('removing from the middle, the end and the start keeps every other device findable', (t) => {
  const devices = new EntryDevices(places);
  const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map(device);
  for (const x of [a, b, c, d, e]) devices.add(x);
  t.true(devices.delete(b), 'from the middle');
  t.deepEqual(ids(devices), ['a', 'c', 'd', 'e']);
  t.true(devices.delete(e), 'the last');
  t.true(devices.delete(a), 'the first');
  t.deepEqual(ids(devices), ['c', 'd']);
  for (const x of [c, d]) t.true(devices.has(x), x.id);
  for (const x of [a, b, e]) t.false(devices.has(x), x.id);
  t.false(devices.delete(b), 'a device removed already');
  t.is(devices.size, 2);
  t.true(devices.delete(c));
  t.true(devices.delete(d));
  t.is(devices.size, 0);
  t.deepEqual(ids(devices), []);
});

test('a device of another entry is not removed from this one', (t) => {
  const one = new EntryDevices(places);
  const other = new EntryDevices(places);
  const [a, b, x] = ['a', 'b', 'x'].map(device);
  one.add(a);
  one.add(b);
  other.add(x); // x's place is 0, where a is in `one`
  t.false(one.delete(x));
  t.false(one.has(x));
  t.deepEqual(ids(one), ['a', 'b']);
  t.true(other.has(x));
});
