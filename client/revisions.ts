// Revisions as the client returns them: decimal strings, exact beyond 2^53 (an int64 on the
// wire). Strings compare wrongly with `<` ('9' > '10'), so these helpers compare them as the
// integers they are. A revision goes into a request as a string, a number or a bigint.

import type { RevisionInput } from './types.ts';

/** Negative when revision `a` is older than `b`, 0 when equal, positive when newer. */
export function compareRevisions(a: RevisionInput, b: RevisionInput): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The newest of the revisions given, as a decimal string ('0' for none). */
export function maxRevision(...revisions: RevisionInput[]): string {
  let max = 0n;
  for (const revision of revisions) if (BigInt(revision) > max) max = BigInt(revision);
  return String(max);
}
