// The ranking order's tie-break (spec "Ranking compatible targets", criteria 4 and 5) as the
// comparator (compareRanked, which FindTargets uses) and as the sort key a standing query hands
// to clients (rankSortKey): targets whose descriptors rank alike are ordered by free capacity,
// unknown counting as none, then by name; a comparator that is not antisymmetric, or a key that
// drops the capacity, orders a client's list differently from FindTargets.

import test from 'ava';
import { compareRanked, compareRankKeys, rankSortKey, type RankCandidate, type RankKey } from '../server/core/rank.ts';

const KEY: RankKey = { verdictClass: 0, exact: true, distance: [0, 1, 0] };

/** Candidates with one rank key, listed in the expected order: most free first, then name. */
const EXPECTED: RankCandidate[] = [
  { key: KEY, available: 4_294_967_295, name: 'hosts/z/devices/0' },
  { key: KEY, available: 7, name: 'hosts/b/devices/0' },
  { key: KEY, available: 3, name: 'hosts/a/devices/9' },
  { key: KEY, available: 3, name: 'hosts/b/devices/1' },
  // Unknown capacity ties with none free: the name decides among them.
  { key: KEY, available: 0, name: 'hosts/a/devices/0' },
  { key: KEY, available: undefined, name: 'hosts/a/devices/1' },
  { key: KEY, available: null, name: 'hosts/a/devices/2' },
  { key: KEY, available: 0, name: 'hosts/c/devices/0' },
];

/** Deterministic shuffles of the list (every rotation, forwards and reversed). */
function shuffles<T>(list: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i++) {
    const rotated = [...list.slice(i), ...list.slice(0, i)];
    out.push(rotated, [...rotated].reverse());
  }
  return out;
}

const bySortKey = (a: RankCandidate, b: RankCandidate): number => {
  const x = rankSortKey(a.key, a.available, a.name);
  const y = rankSortKey(b.key, b.available, b.name);
  return x < y ? -1 : x > y ? 1 : 0;
};

test('equal rank keys: more free capacity first, unknown as none free, then the name', (t) => {
  const names = EXPECTED.map((c) => c.name);
  for (const input of shuffles(EXPECTED)) {
    t.deepEqual([...input].sort(compareRanked).map((c) => c.name), names, 'compareRanked');
    t.deepEqual([...input].sort(bySortKey).map((c) => c.name), names, 'rankSortKey');
  }
});

test('compareRanked is a consistent comparator: zero for the same target, antisymmetric otherwise', (t) => {
  for (let i = 0; i < EXPECTED.length; i++) {
    const a = EXPECTED[i];
    t.is(compareRanked(a, { ...a }), 0, `${a.name} against itself`);
    for (let j = i + 1; j < EXPECTED.length; j++) {
      const b = EXPECTED[j];
      t.true(compareRanked(a, b) < 0, `${a.name} before ${b.name}`);
      t.true(compareRanked(b, a) > 0, `${b.name} after ${a.name}`);
    }
  }
});

test('the sort key orders exactly as compareRanked, pair by pair, for equal rank keys', (t) => {
  for (const a of EXPECTED) {
    for (const b of EXPECTED) t.is(Math.sign(bySortKey(a, b)), Math.sign(compareRanked(a, b)), `${a.name} vs ${b.name}`);
  }
});

test('the rank key decides before capacity; every distance component counts, major first', (t) => {
  const at = (distance: [number, number, number]): RankKey => ({ verdictClass: 0, exact: false, distance });
  t.true(compareRankKeys(at([0, 0, 1]), at([0, 0, 2])) < 0);
  t.true(compareRankKeys(at([0, 2, 0]), at([0, 1, 9])) > 0);
  t.true(compareRankKeys(at([1, 0, 0]), at([0, 9, 9])) > 0);
  t.is(compareRankKeys(at([1, 2, 3]), at([1, 2, 3])), 0);
  // A closer version with nothing free beats a farther one with everything free.
  const near: RankCandidate = { key: at([0, 0, 1]), available: 0, name: 'hosts/z/devices/0' };
  const far: RankCandidate = { key: at([0, 0, 2]), available: 100, name: 'hosts/a/devices/0' };
  t.true(compareRanked(near, far) < 0);
  t.true(bySortKey(near, far) < 0);
});

test('the sort key orders version distances beyond 10 digits as compareRanked does (semver allows up to 2^53 - 1)', (t) => {
  // Semver components go up to Number.MAX_SAFE_INTEGER (16 digits): a key padded to fewer
  // digits puts 20000000000 before 9999999999 as strings.
  const at = (major: number): RankCandidate => ({ key: { verdictClass: 0, exact: false, distance: [major, 0, 0] }, available: 0, name: `hosts/h/devices/${major}` });
  const candidates = [at(Number.MAX_SAFE_INTEGER), at(20_000_000_000), at(9_999_999_999), at(10), at(0)];
  for (const a of candidates) {
    for (const b of candidates) t.is(Math.sign(bySortKey(a, b)), Math.sign(compareRanked(a, b)), `${a.name} vs ${b.name}`);
  }
});
