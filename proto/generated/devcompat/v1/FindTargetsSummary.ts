// Original file: proto/devcompat/v1/compatibility.proto

import type { Long } from '@grpc/proto-loader';

/**
 * FindTargetsSummary closes a FindTargets stream.
 */
export interface FindTargetsSummary {
  /**
   * revision is the registry revision every verdict of the stream was computed at.
   */
  'revision'?: (number | string | Long);
  /**
   * candidates counts the devices examined (after host filters).
   */
  'candidates'?: (number);
  /**
   * compatible counts every compatible candidate, including those past the limit.
   */
  'compatible'?: (number);
  /**
   * rejected counts every incompatible candidate, including those not streamed.
   */
  'rejected'?: (number);
  /**
   * distinct_descriptors counts the distinct candidate descriptors evaluated.
   */
  'distinct_descriptors'?: (number);
  /**
   * unreachable_hosts_left_out counts the hosts that hold candidate devices and were left out
   * only because their lease lapsed (UNREACHABLE); include_unreachable_hosts keeps them.
   */
  'unreachable_hosts_left_out'?: (number);
  /**
   * draining_hosts_left_out counts the reachable hosts that hold candidate devices and were
   * left out only because they are draining; include_draining_hosts keeps them.
   */
  'draining_hosts_left_out'?: (number);
}

/**
 * FindTargetsSummary closes a FindTargets stream.
 */
export interface FindTargetsSummary__Output {
  /**
   * revision is the registry revision every verdict of the stream was computed at.
   */
  'revision': (string);
  /**
   * candidates counts the devices examined (after host filters).
   */
  'candidates': (number);
  /**
   * compatible counts every compatible candidate, including those past the limit.
   */
  'compatible': (number);
  /**
   * rejected counts every incompatible candidate, including those not streamed.
   */
  'rejected': (number);
  /**
   * distinct_descriptors counts the distinct candidate descriptors evaluated.
   */
  'distinct_descriptors': (number);
  /**
   * unreachable_hosts_left_out counts the hosts that hold candidate devices and were left out
   * only because their lease lapsed (UNREACHABLE); include_unreachable_hosts keeps them.
   */
  'unreachable_hosts_left_out': (number);
  /**
   * draining_hosts_left_out counts the reachable hosts that hold candidate devices and were
   * left out only because they are draining; include_draining_hosts keeps them.
   */
  'draining_hosts_left_out': (number);
}
