// Ranking compatible targets, best first (spec: "Ranking compatible targets"):
//   1. VERDICT_COMPATIBLE before VERDICT_COMPATIBLE_WITH_WARNINGS;
//   2. exact matches first;
//   3. smaller software_version distance (|Δmajor|, |Δminor|, |Δpatch|);
//   4. more free capacity, unknown counting as none free;
//   5. resource name ascending.
// 1-3 depend on the descriptors only (RankKey); 4-5 on the resource (compareFreeThenName,
// the one tie-break, and compareFreeThenDeviceName, the same order for a device named by host
// and device id, which FindTargets uses; compareRanked and rankSortKey are the whole order as a
// comparator and as a string).

import type { Descriptor, Verdict, VerdictKind, Version } from './model.ts';
import { compareDeviceNames } from './resources.ts';

export interface RankKey {
  /** 0 compatible, 1 with warnings, 2 incompatible (never ranked by the spec; sorts last). */
  readonly verdictClass: number;
  readonly exact: boolean;
  /** (|Δmajor|, |Δminor|, |Δpatch|) between the software versions. */
  readonly distance: readonly [number, number, number];
}

/** A target to rank: its RankKey, its free capacity if known, and its resource name. */
export interface RankCandidate {
  readonly key: RankKey;
  /** Free instances; undefined or null when unknown, which ranks like 0 free. */
  readonly available?: number | null;
  readonly name: string;
}

const VERDICT_CLASS: Readonly<Record<VerdictKind, number>> = {
  VERDICT_COMPATIBLE: 0,
  VERDICT_COMPATIBLE_WITH_WARNINGS: 1,
  VERDICT_INCOMPATIBLE: 2,
};

/** The descriptor-level part of a target's rank; `verdict` is evaluate(source, target). */
export function rankKey(source: Descriptor, target: Descriptor, verdict: Verdict): RankKey {
  return {
    verdictClass: VERDICT_CLASS[verdict.verdict],
    exact: isExactMatch(verdict),
    distance: versionDistance(source.softwareVersion, target.softwareVersion),
  };
}

/**
 * Exact: the target's type is the source's own type (not merely in compatible_types), its
 * software_version equals the source's, and every other check except IGNORE ones compares
 * equal values on both sides. Read off the verdict's checks, whose `equal` says exactly
 * that (`type`: the same type; `software_version`: semver equality, required even when
 * the target's software_version rule is IGNORE).
 */
export function isExactMatch(verdict: Verdict): boolean {
  for (const check of verdict.checks) {
    if (check.equal) continue;
    if (check.op === 'COMPARE_OP_IGNORE' && check.attribute !== 'software_version') continue;
    return false;
  }
  return true;
}

/** (|Δmajor|, |Δminor|, |Δpatch|); prerelease and build do not count. */
export function versionDistance(a: Version, b: Version): [number, number, number] {
  return [
    Math.abs(a.semver.major - b.semver.major),
    Math.abs(a.semver.minor - b.semver.minor),
    Math.abs(a.semver.patch - b.semver.patch),
  ];
}

/** Orders rank keys best first (negative when `a` ranks before `b`). */
export function compareRankKeys(a: RankKey, b: RankKey): number {
  if (a.verdictClass !== b.verdictClass) return a.verdictClass - b.verdictClass;
  if (a.exact !== b.exact) return a.exact ? -1 : 1;
  for (let i = 0; i < 3; i++) {
    if (a.distance[i] !== b.distance[i]) return a.distance[i] - b.distance[i];
  }
  return 0;
}

/** Orders candidates best first: rank key, then more free capacity, then name ascending. */
export function compareRanked(a: RankCandidate, b: RankCandidate): number {
  const byKey = compareRankKeys(a.key, b.key);
  if (byKey !== 0) return byKey;
  return compareFreeThenName(a.available, a.name, b.available, b.name);
}

/**
 * The tie-break between targets whose rank keys are equal (criteria 4 and 5): more free
 * capacity first, unknown counting as none free, then the name ascending. The one definition
 * of it: compareRanked calls it, FindTargets calls compareFreeThenDeviceName (the same order
 * without building names), and rankSortKey encodes it.
 */
export function compareFreeThenName(
  freeA: number | null | undefined,
  nameA: string,
  freeB: number | null | undefined,
  nameB: string,
): number {
  const byFree = compareFree(freeA, freeB);
  if (byFree !== 0) return byFree;
  // Code-unit order, not localeCompare: the order must not depend on the server's locale.
  return nameA < nameB ? -1 : nameA > nameB ? 1 : 0;
}

/** compareFreeThenName for devices named by host and device id (resources.ts compareDeviceNames: the same order, no name built). */
export function compareFreeThenDeviceName(
  freeA: number | null | undefined,
  hostA: string,
  deviceA: string,
  freeB: number | null | undefined,
  hostB: string,
  deviceB: string,
): number {
  return compareFree(freeA, freeB) || compareDeviceNames(hostA, deviceA, hostB, deviceB);
}

/** More free capacity first; unknown capacity counts as none free, so it ties with 0 and the name decides. */
function compareFree(freeA: number | null | undefined, freeB: number | null | undefined): number {
  return (freeB ?? 0) - (freeA ?? 0);
}

/** A version distance component is at most a semver component, Number.MAX_SAFE_INTEGER: 16 digits. */
const DISTANCE_DIGITS = 16;
/** Free capacity is a uint32 on the wire: 10 digits. */
const MAX_AVAILABLE = 4_294_967_295;
const AVAILABLE_DIGITS = 10;

/**
 * compareRanked as a string: fixed-width decimal fields, so that byte order is rank order —
 * verdict class, exact first, version distance, more free capacity first (unknown as none),
 * then the name in code-unit order. Standing queries hand it to clients, which keep a ranked
 * set from diffs alone.
 */
export function rankSortKey(key: RankKey, available: number | null | undefined, name: string): string {
  const distance = (value: number) => String(value).padStart(DISTANCE_DIGITS, '0');
  const free = Math.min(Math.max(available ?? 0, 0), MAX_AVAILABLE);
  return [
    String(key.verdictClass),
    key.exact ? '0' : '1',
    distance(key.distance[0]),
    distance(key.distance[1]),
    distance(key.distance[2]),
    String(MAX_AVAILABLE - free).padStart(AVAILABLE_DIGITS, '0'),
    name,
  ].join('.');
}
