// Versions and ranges (spec: "Versions are parsed as semver in loose mode ... Ranges are
// node-semver ranges parsed strictly"). Everything that compares versions goes through
// here so that build metadata can never leak into a comparison.

// The two parts used, not the package's index, which loads every function and class of
// node-semver (about 20 ms at every start of the server).
import Range from 'semver/classes/range.js';
import parse from 'semver/functions/parse.js';
import type { Version } from './model.ts';

// Loose so that `v1.2.3` and vendor versions such as `535.104.05` are accepted; loose mode
// still rejects `1.2` (a version has three numeric parts).
const VERSION_OPTIONS = { loose: true } as const;
// Strict (not loose): a loose range silently drops comparators it cannot read, so
// `>=1.0.0 junk` would mean `>=1.0.0`. includePrerelease stays off: a prerelease satisfies a
// range only as node-semver decides by default.
const RANGE_OPTIONS = { loose: false, includePrerelease: false } as const;

/** Parses a version (loose semver); null when it is not one. Keeps build metadata in `text`. */
export function parseVersion(text: string): Version | null {
  if (typeof text !== 'string') return null;
  const parsed = parse(text, VERSION_OPTIONS);
  if (parsed === null) return null;
  // `parsed.version` drops build metadata; the canonical text keeps it (it is part of what
  // the device reported) even though no comparison ever looks at it.
  const build = parsed.build.length > 0 ? `+${parsed.build.join('.')}` : '';
  return { text: parsed.version + build, semver: parsed };
}

/**
 * Parses a node-semver range strictly; null when it is not a valid range. An empty or blank
 * range is rejected although node-semver reads it as `*`: an absent range (proto3's default
 * `''`) must not turn into "accept everything".
 */
export function parseRangeStrict(text: string): Range | null {
  if (typeof text !== 'string' || text.trim() === '') return null;
  try {
    return new Range(text, RANGE_OPTIONS);
  } catch {
    return null;
  }
}

/** Semver order of two versions, build metadata ignored: negative, zero or positive. */
export function compareVersions(a: Version, b: Version): number {
  // SemVer.compare compares main and prerelease parts only (compareBuild is the one that
  // would look at build metadata).
  return a.semver.compare(b.semver);
}

/** Semver equality, build metadata ignored (`1.2.3+a` equals `1.2.3+b`). */
export function versionsEqual(a: Version, b: Version): boolean {
  return a === b || a.semver.compare(b.semver) === 0;
}

/** True when the version satisfies the range (as node-semver decides, prereleases excluded). */
export function satisfiesRange(version: Version, range: Range): boolean {
  return range.test(version.semver);
}

/** Whether the version has a prerelease part (`1.2.0-rc.1`). */
export function isPrerelease(version: Version): boolean {
  return version.semver.prerelease.length > 0;
}
