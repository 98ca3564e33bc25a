// Original file: proto/devcompat/v1/placement.proto

import type { Verdict as _devcompat_v1_Verdict, Verdict__Output as _devcompat_v1_Verdict__Output } from '../../devcompat/v1/Verdict.ts';

/**
 * PlacementKey is what placements are ranked by, compared in field order (docs/model.md,
 * "Ranking placements"); the host name breaks the remaining ties.
 */
export interface PlacementKey {
  /**
   * worst_verdict is the worst verdict among the pairs (COMPATIBLE before WITH_WARNINGS).
   */
  'worst_verdict'?: (_devcompat_v1_Verdict);
  /**
   * non_exact_pairs counts the pairs that are not exact matches; fewer ranks first.
   */
  'non_exact_pairs'?: (number);
  /**
   * major_distance is the sum over the pairs of |Δmajor| of software_version; smaller first.
   */
  'major_distance'?: (number);
  /**
   * minor_distance is the sum over the pairs of |Δminor|; smaller first.
   */
  'minor_distance'?: (number);
  /**
   * patch_distance is the sum over the pairs of |Δpatch|; smaller first.
   */
  'patch_distance'?: (number);
  /**
   * free_units_after is the number of free units the host keeps after the assignment,
   * claims and shared budgets counted; more ranks first.
   */
  'free_units_after'?: (number);
}

/**
 * PlacementKey is what placements are ranked by, compared in field order (docs/model.md,
 * "Ranking placements"); the host name breaks the remaining ties.
 */
export interface PlacementKey__Output {
  /**
   * worst_verdict is the worst verdict among the pairs (COMPATIBLE before WITH_WARNINGS).
   */
  'worst_verdict': (_devcompat_v1_Verdict__Output);
  /**
   * non_exact_pairs counts the pairs that are not exact matches; fewer ranks first.
   */
  'non_exact_pairs': (number);
  /**
   * major_distance is the sum over the pairs of |Δmajor| of software_version; smaller first.
   */
  'major_distance': (number);
  /**
   * minor_distance is the sum over the pairs of |Δminor|; smaller first.
   */
  'minor_distance': (number);
  /**
   * patch_distance is the sum over the pairs of |Δpatch|; smaller first.
   */
  'patch_distance': (number);
  /**
   * free_units_after is the number of free units the host keeps after the assignment,
   * claims and shared budgets counted; more ranks first.
   */
  'free_units_after': (number);
}
