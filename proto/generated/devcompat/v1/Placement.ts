// Original file: proto/devcompat/v1/placement.proto

import type { HostState as _devcompat_v1_HostState, HostState__Output as _devcompat_v1_HostState__Output } from '../../devcompat/v1/HostState.ts';
import type { PlacementKey as _devcompat_v1_PlacementKey, PlacementKey__Output as _devcompat_v1_PlacementKey__Output } from '../../devcompat/v1/PlacementKey.ts';
import type { PlacementPair as _devcompat_v1_PlacementPair, PlacementPair__Output as _devcompat_v1_PlacementPair__Output } from '../../devcompat/v1/PlacementPair.ts';

/**
 * Placement is one host that can take every device of the VM, with its best assignment.
 */
export interface Placement {
  /**
   * host is the host, `hosts/{host}`.
   */
  'host'?: (string);
  /**
   * rank is the 1-based position among the placements.
   */
  'rank'?: (number);
  /**
   * host_state is the state of the host.
   */
  'host_state'?: (_devcompat_v1_HostState);
  /**
   * key is the placement's ranking key.
   */
  'key'?: (_devcompat_v1_PlacementKey | null);
  /**
   * pairs are the assignment: one pair per unit, in request order then unit order.
   */
  'pairs'?: (_devcompat_v1_PlacementPair)[];
}

/**
 * Placement is one host that can take every device of the VM, with its best assignment.
 */
export interface Placement__Output {
  /**
   * host is the host, `hosts/{host}`.
   */
  'host': (string);
  /**
   * rank is the 1-based position among the placements.
   */
  'rank': (number);
  /**
   * host_state is the state of the host.
   */
  'host_state': (_devcompat_v1_HostState__Output);
  /**
   * key is the placement's ranking key.
   */
  'key': (_devcompat_v1_PlacementKey__Output | null);
  /**
   * pairs are the assignment: one pair per unit, in request order then unit order.
   */
  'pairs': (_devcompat_v1_PlacementPair__Output)[];
}
