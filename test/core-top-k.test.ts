// selectBest (server/core/top-k.ts), the bounded selection behind FindTargets and placement
// ranking: exactly the k best of n items, in the comparator's order, at every edge (k = 0, 1,
// n, beyond n), for either direction of the comparator, and with ties. Pure, no registry.

import test from 'ava';
import fc from 'fast-check';
import { selectBest } from '../server/core/top-k.ts';

interface Item {
  readonly v: number;
  readonly seq: number;
}

// Items are objects and the comparator reads a field, so that comparing with a missing heap
// slot (an index past the end) throws instead of quietly giving NaN.
const ascending = (a: Item, b: Item) => a.v - b.v;
const descending = (a: Item, b: Item) => b.v - a.v;
const items = (...values: number[]): Item[] => values.map((v, seq) => ({ v, seq }));
const values = (list: readonly Item[]) => list.map((item) => item.v);

test('k = 0 or below selects nothing and never calls the comparator', (t) => {
  let calls = 0;
  const counted = (a: Item, b: Item) => {
    calls++;
    return ascending(a, b);
  };
  t.deepEqual(selectBest(items(3, 1, 2), 0, counted), []);
  t.deepEqual(selectBest(items(3, 1, 2), -1, counted), []);
  t.is(calls, 0);
});

test('k = 1 is the single best item; an empty input gives an empty result', (t) => {
  t.deepEqual(values(selectBest(items(5, 3, 9, 1, 7), 1, ascending)), [1]);
  t.deepEqual(values(selectBest(items(5, 3, 9, 1, 7), 1, descending)), [9]);
  t.deepEqual(selectBest([], 3, ascending), []);
});

test('k = n and k > n return every item, sorted', (t) => {
  const input = items(4, 8, 1, 9, 2, 7, 3);
  t.deepEqual(values(selectBest(input, 7, ascending)), [1, 2, 3, 4, 7, 8, 9]);
  t.deepEqual(values(selectBest(input, 100, ascending)), [1, 2, 3, 4, 7, 8, 9]);
  t.deepEqual(values(selectBest(input, 6, ascending)), [1, 2, 3, 4, 7, 8], 'k = n - 1 drops only the worst');
});

test("the comparator's direction decides which end is best", (t) => {
  const input = items(10, 40, 20, 50, 30, 60, 0);
  t.deepEqual(values(selectBest(input, 3, ascending)), [0, 10, 20]);
  t.deepEqual(values(selectBest(input, 3, descending)), [60, 50, 40]);
});

test('a single pass over any iterable: a generator works', (t) => {
  function* generate() {
    for (let i = 20; i > 0; i--) yield { v: (i * 7) % 20, seq: i };
  }
  t.deepEqual(values(selectBest(generate(), 5, ascending)), [0, 1, 2, 3, 4]);
});

test('when everything ties, the first k seen are kept in the order seen: a later equal item never displaces a kept one', (t) => {
  const input = items(5, 5, 5, 5, 5, 5, 5, 5, 5, 5);
  t.deepEqual(
    selectBest(input, 4, ascending).map((item) => item.seq),
    [0, 1, 2, 3],
  );
  t.deepEqual(
    selectBest(input, 1, ascending).map((item) => item.seq),
    [0],
  );
});

test('any input, any k: exactly the sorted prefix of length min(k, n), each an input item', (t) => {
  const run = fc.check(
    fc.property(fc.array(fc.integer({ min: 0, max: 12 }), { maxLength: 40 }), fc.integer({ min: 0, max: 45 }), fc.boolean(), (raw, k, up) => {
      const input = items(...raw);
      const compare = up ? ascending : descending;
      const chosen = selectBest(input, k, compare);
      const expected = [...input].sort(compare).slice(0, k);
      return (
        chosen.length === Math.min(k, input.length) &&
        values(chosen).join() === values(expected).join() &&
        chosen.every((item) => input[item.seq] === item) &&
        new Set(chosen).size === chosen.length
      );
    }),
    { seed: 20261130, numRuns: 400 },
  );
  t.false(run.failed, fc.defaultReportMessage(run));
});

test('distinct values: the exact items, for every k from 0 past n', (t) => {
  // A fixed shuffle of 0..31 (deep enough heaps for sifting several levels).
  const shuffled = Array.from({ length: 32 }, (_, i) => (i * 13 + 5) % 32);
  const input = items(...shuffled);
  for (let k = 0; k <= 34; k++) {
    t.deepEqual(values(selectBest(input, k, ascending)), Array.from({ length: Math.min(k, 32) }, (_, i) => i), `k=${k}`);
    t.deepEqual(values(selectBest(input, k, descending)), Array.from({ length: Math.min(k, 32) }, (_, i) => 31 - i), `k=${k} descending`);
  }
});
