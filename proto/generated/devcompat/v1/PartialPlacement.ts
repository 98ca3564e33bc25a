// Original file: proto/devcompat/v1/placement.proto

import type { HostState as _devcompat_v1_HostState, HostState__Output as _devcompat_v1_HostState__Output } from '../../devcompat/v1/HostState.ts';
import type { PlacementPair as _devcompat_v1_PlacementPair, PlacementPair__Output as _devcompat_v1_PlacementPair__Output } from '../../devcompat/v1/PlacementPair.ts';
import type { MissingDevice as _devcompat_v1_MissingDevice, MissingDevice__Output as _devcompat_v1_MissingDevice__Output } from '../../devcompat/v1/MissingDevice.ts';

/**
 * PartialPlacement is a host that could take some but not all of the VM's devices.
 */
export interface PartialPlacement {
  /**
   * host is the host, `hosts/{host}`.
   */
  'host'?: (string);
  /**
   * host_state is the state of the host.
   */
  'host_state'?: (_devcompat_v1_HostState);
  /**
   * pairs are the units the host could take together (the largest such assignment, ranked
   * like placements among equally large ones).
   */
  'pairs'?: (_devcompat_v1_PlacementPair)[];
  /**
   * missing lists every request that is not fully placed.
   */
  'missing'?: (_devcompat_v1_MissingDevice)[];
}

/**
 * PartialPlacement is a host that could take some but not all of the VM's devices.
 */
export interface PartialPlacement__Output {
  /**
   * host is the host, `hosts/{host}`.
   */
  'host': (string);
  /**
   * host_state is the state of the host.
   */
  'host_state': (_devcompat_v1_HostState__Output);
  /**
   * pairs are the units the host could take together (the largest such assignment, ranked
   * like placements among equally large ones).
   */
  'pairs': (_devcompat_v1_PlacementPair__Output)[];
  /**
   * missing lists every request that is not fully placed.
   */
  'missing': (_devcompat_v1_MissingDevice__Output)[];
}
