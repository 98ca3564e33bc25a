// The listing indexes (server/core/listing.ts) behind ListHosts and ListDevices: the label
// index (which resources carry a label, and that it forgets a label nobody carries), the sorted
// id set (insert/remove of present and missing ids, pages from an exclusive cursor), the id
// comparator, and a page of candidates after a cursor. Pure, no registry.

import test from 'ava';
import { compareIds, LabelIndex, pageOf, SortedIds } from '../server/core/listing.ts';

const sorted = (set: ReadonlySet<string>) => [...set].sort();
/** How many labels the index holds entries for: it must not keep labels nobody carries. */
const labelsHeld = (index: LabelIndex<string>) => (index['byLabel'] as Map<string, unknown>).size;

test('a label finds exactly the resources that carry that key with that value', (t) => {
  const index = new LabelIndex<string>();
  index.add({ zone: 'a', rack: '1' }, 'h1');
  index.add({ zone: 'a', rack: '2' }, 'h2');
  index.add({ zone: 'b' }, 'h3');
  t.deepEqual(sorted(index.get('zone', 'a')), ['h1', 'h2']);
  t.deepEqual(sorted(index.get('zone', 'b')), ['h3']);
  t.deepEqual(sorted(index.get('rack', '2')), ['h2']);
  t.deepEqual(sorted(index.get('zone', 'c')), [], 'a value nobody has');
  t.deepEqual(sorted(index.get('color', 'a')), [], 'a key nobody has');
  t.deepEqual(sorted(index.get('a', 'zone')), [], 'key and value are not interchangeable');
  t.deepEqual(labelsHeld(index), 4);
});

test('removing labels drops the resource from each; a label nobody carries any more is forgotten', (t) => {
  const index = new LabelIndex<string>();
  index.add({ zone: 'a', rack: '1' }, 'h1');
  index.add({ zone: 'a' }, 'h2');
  index.remove({ zone: 'a', rack: '1' }, 'h1');
  t.deepEqual(sorted(index.get('zone', 'a')), ['h2']);
  t.deepEqual(sorted(index.get('rack', '1')), []);
  t.is(labelsHeld(index), 1, 'rack=1 is forgotten (memory stays bounded under label churn)');
  index.remove({ zone: 'a' }, 'h2');
  t.deepEqual(sorted(index.get('zone', 'a')), []);
  t.is(labelsHeld(index), 0);
});

test('removing labels a resource does not carry, or that no resource has, changes nothing and does not throw', (t) => {
  const index = new LabelIndex<string>();
  index.add({ zone: 'a' }, 'h1');
  t.notThrows(() => index.remove({ zone: 'never', other: 'x' }, 'h1'));
  t.notThrows(() => index.remove({ zone: 'a' }, 'h9'));
  t.deepEqual(sorted(index.get('zone', 'a')), ['h1']);
  t.is(labelsHeld(index), 1);
});

test('sorted ids: an empty set lists nothing; inserts in any order list in id order, once each', (t) => {
  const ids = new SortedIds();
  t.deepEqual([...ids.from(undefined)], []);
  for (const id of ['m', 'c', 'x', 'a', 'c', 'q', 'x', 'b']) ids.insert(id);
  t.deepEqual([...ids.from(undefined)], ['a', 'b', 'c', 'm', 'q', 'x']);
});

test('sorted ids: removing a present id drops exactly it; removing a missing id changes nothing', (t) => {
  const ids = new SortedIds();
  for (const id of ['a', 'c', 'e', 'g']) ids.insert(id);
  ids.remove('d');
  ids.remove('z');
  ids.remove('0');
  t.deepEqual([...ids.from(undefined)], ['a', 'c', 'e', 'g']);
  ids.remove('c');
  t.deepEqual([...ids.from(undefined)], ['a', 'e', 'g']);
  ids.remove('g');
  ids.remove('a');
  ids.remove('e');
  t.deepEqual([...ids.from(undefined)], []);
  ids.remove('e');
  t.deepEqual([...ids.from(undefined)], []);
});

test('sorted ids from a cursor: strictly after it, whether the cursor is present, missing, first, last or beyond', (t) => {
  const ids = new SortedIds();
  for (const id of ['b', 'd', 'f', 'h']) ids.insert(id);
  t.deepEqual([...ids.from('d')], ['f', 'h'], 'a present cursor is excluded');
  t.deepEqual([...ids.from('b')], ['d', 'f', 'h'], 'the first id as cursor');
  t.deepEqual([...ids.from('h')], [], 'the last id as cursor');
  t.deepEqual([...ids.from('e')], ['f', 'h'], 'a missing cursor between ids');
  t.deepEqual([...ids.from('a')], ['b', 'd', 'f', 'h'], 'a missing cursor before every id');
  t.deepEqual([...ids.from('z')], [], 'a cursor after every id');
  t.deepEqual([...ids.from('')], ['b', 'd', 'f', 'h'], 'the empty id is a cursor before every id');
  t.deepEqual([...new SortedIds().from('a')], []);
});

test('sorted ids page through a large set in order, every id exactly once', (t) => {
  const ids = new SortedIds();
  const all = Array.from({ length: 200 }, (_, i) => `host-${String((i * 37) % 200).padStart(3, '0')}`);
  for (const id of all) ids.insert(id);
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 100; page++) {
    const next = [];
    for (const id of ids.from(cursor)) {
      next.push(id);
      if (next.length === 30) break;
    }
    if (next.length === 0) break;
    seen.push(...next);
    cursor = next[next.length - 1];
  }
  t.deepEqual(seen, [...all].sort());
});

test('compareIds orders by code unit: negative, positive, zero', (t) => {
  t.is(compareIds('a', 'b'), -1);
  t.is(compareIds('b', 'a'), 1);
  t.is(compareIds('a', 'a'), 0);
  t.is(compareIds('B', 'a'), -1, 'upper case sorts first');
  t.is(compareIds('a', 'aa'), -1);
  t.is(compareIds('gpu10', 'gpu9'), -1, 'not a natural sort');
});

test('a page: the `limit` smallest candidates that are after the cursor and kept, in order', (t) => {
  const candidates = [9, 2, 7, 4, 1, 8, 3, 6, 5, 10];
  const byValue = (a: number, b: number) => a - b;
  const even = (n: number) => n % 2 === 0;
  t.deepEqual(pageOf(candidates, even, (n) => n > 2, byValue, 3), [4, 6, 8]);
  t.deepEqual(pageOf(candidates, even, (n) => n > 2, byValue, 10), [4, 6, 8, 10]);
  t.deepEqual(pageOf(candidates, () => true, (n) => n > 7, byValue, 10), [8, 9, 10], 'the cursor alone');
  t.deepEqual(pageOf(candidates, even, () => true, byValue, 2), [2, 4], 'the filter alone');
  t.deepEqual(pageOf(candidates, even, (n) => n > 10, byValue, 5), []);
  t.deepEqual(pageOf(candidates, even, () => true, byValue, 0), []);
});
