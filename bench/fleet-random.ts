// The fleet generator's randomness: a seeded mulberry32 stream per host, keyed by (seed, host
// index), for capacity; quasi-random (Kronecker) draws for the host class and each family's
// per-host state; weighted choices. Everything is a pure function of the seed, which is what
// makes the same (hosts, seed) give the same fleet.

import { mulberry32 } from './stats.ts';


export type Rng = () => number;

// murmur3's finalizer: spreads (seed, index) so that neighbouring hosts get unrelated streams.
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function hostRng(seed: number, index: number): Rng {
  return mulberry32(fmix32(fmix32(seed ^ 0x5bd1e995) + Math.imul(index + 1, 0x9e3779b9)));
}

// Quasi-random (Kronecker) draws for the host class and for each family's per-host state: the
// k-th draw is frac(offset + k * alpha), offset from the seed, alpha a quadratic irrational (so
// the points spread evenly); k is the host's index for its class, and the host's rank among the
// hosts carrying the family for that family's state. The shares then land on the mix with little
// sampling noise at any fleet size (at 10,000 hosts the class counts are the reference fleet's)
// and even the rarest driver/firmware combinations show up. Capacity is pseudo-random.
export function kronecker(offset: number, index: number, alpha: number): number {
  const x = offset + index * alpha;
  return x - Math.floor(x);
}

export function seedOffset(seed: number, salt: number): number {
  return fmix32(fmix32(seed ^ 0x27d4eb2f) ^ Math.imul(salt + 1, 0x165667b1)) / 4294967296;
}

// frac(golden ratio), then frac(sqrt(p)) for primes p: rationally independent of each other.
export const CLASS_ALPHA = 0.6180339887498949;

/** Uniform integer in 0..max (inclusive). */
export function intUpTo(rng: Rng, max: number): number {
  return Math.floor(rng() * (max + 1));
}

export class Choice<T> {
  private readonly values: readonly T[];
  private readonly cumulative: readonly number[];

  constructor(entries: readonly (readonly [T, number])[]) {
    let total = 0;
    const cumulative: number[] = [];
    for (const [, weight] of entries) {
      total += weight;
      cumulative.push(total);
    }
    this.values = entries.map(([value]) => value);
    this.cumulative = cumulative.map((c) => c / total);
  }

  pickAt(u: number): T {
    return this.split(u)[0];
  }

  /** The value at u in [0, 1), and where u falls inside that value's share, again in [0, 1). */
  split(u: number): [T, number] {
    const cumulative = this.cumulative;
    let low = 0;
    for (let i = 0; i < cumulative.length; i++) {
      if (u < cumulative[i] || i === cumulative.length - 1) {
        return [this.values[i], Math.min(Math.max((u - low) / (cumulative[i] - low), 0), 1 - Number.EPSILON)];
      }
      low = cumulative[i];
    }
    throw new Error('a Choice needs at least one value');
  }
}
