// Original file: proto/devcompat/v1/placement.proto

import type { Long } from '@grpc/proto-loader';

/**
 * FindPlacementsSummary closes a FindPlacements stream.
 */
export interface FindPlacementsSummary {
  /**
   * revision is the registry revision every placement of the stream was computed at,
   * claims included.
   */
  'revision'?: (number | string | Long);
  /**
   * hosts_examined counts the hosts that had a candidate for at least one request (after
   * host filters).
   */
  'hosts_examined'?: (number);
  /**
   * placements counts every host that can take the whole VM, including those past the limit.
   */
  'placements'?: (number);
  /**
   * partial counts every host that can take part of the VM, streamed or not.
   */
  'partial'?: (number);
  /**
   * candidates counts the candidate devices examined over all requests.
   */
  'candidates'?: (number);
}

/**
 * FindPlacementsSummary closes a FindPlacements stream.
 */
export interface FindPlacementsSummary__Output {
  /**
   * revision is the registry revision every placement of the stream was computed at,
   * claims included.
   */
  'revision': (string);
  /**
   * hosts_examined counts the hosts that had a candidate for at least one request (after
   * host filters).
   */
  'hosts_examined': (number);
  /**
   * placements counts every host that can take the whole VM, including those past the limit.
   */
  'placements': (number);
  /**
   * partial counts every host that can take part of the VM, streamed or not.
   */
  'partial': (number);
  /**
   * candidates counts the candidate devices examined over all requests.
   */
  'candidates': (number);
}
