// Original file: proto/devcompat/v1/compatibility.proto

import type { DeviceRef as _devcompat_v1_DeviceRef, DeviceRef__Output as _devcompat_v1_DeviceRef__Output } from '../../devcompat/v1/DeviceRef.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * WatchTargetsRequest is a standing query: the same filters as FindTargetsRequest.
 */
export interface WatchTargetsRequest {
  /**
   * source is the device the VM uses now; required. A registered source is followed: if it
   * changes, every target is re-judged; if it is deleted, the stream ends with NOT_FOUND.
   */
  'source'?: (_devcompat_v1_DeviceRef | null);
  /**
   * exclude_hosts leaves out these hosts (`hosts/{host}` or bare ids).
   */
  'exclude_hosts'?: (string)[];
  /**
   * host_labels keeps only hosts that have every one of these labels.
   */
  'host_labels'?: ({[key: string]: string});
  /**
   * require_available keeps only targets with at least one free instance.
   */
  'require_available'?: (boolean);
  /**
   * include_source_host keeps a registered source's own host among the targets.
   */
  'include_source_host'?: (boolean);
  /**
   * include_unreachable_hosts keeps the devices of UNREACHABLE hosts.
   */
  'include_unreachable_hosts'?: (boolean);
  /**
   * include_draining_hosts keeps the devices of DRAINING hosts.
   */
  'include_draining_hosts'?: (boolean);
  /**
   * min_revision, when set, holds the standing query until the server has applied that
   * registry revision, so that the initial set reflects it (read your own writes made
   * through another replica). It waits up to the call's deadline, at most 5 s, then answers
   * UNAVAILABLE. 0 = no minimum.
   */
  'min_revision'?: (number | string | Long);
}

/**
 * WatchTargetsRequest is a standing query: the same filters as FindTargetsRequest.
 */
export interface WatchTargetsRequest__Output {
  /**
   * source is the device the VM uses now; required. A registered source is followed: if it
   * changes, every target is re-judged; if it is deleted, the stream ends with NOT_FOUND.
   */
  'source': (_devcompat_v1_DeviceRef__Output | null);
  /**
   * exclude_hosts leaves out these hosts (`hosts/{host}` or bare ids).
   */
  'exclude_hosts': (string)[];
  /**
   * host_labels keeps only hosts that have every one of these labels.
   */
  'host_labels': ({[key: string]: string});
  /**
   * require_available keeps only targets with at least one free instance.
   */
  'require_available': (boolean);
  /**
   * include_source_host keeps a registered source's own host among the targets.
   */
  'include_source_host': (boolean);
  /**
   * include_unreachable_hosts keeps the devices of UNREACHABLE hosts.
   */
  'include_unreachable_hosts': (boolean);
  /**
   * include_draining_hosts keeps the devices of DRAINING hosts.
   */
  'include_draining_hosts': (boolean);
  /**
   * min_revision, when set, holds the standing query until the server has applied that
   * registry revision, so that the initial set reflects it (read your own writes made
   * through another replica). It waits up to the call's deadline, at most 5 s, then answers
   * UNAVAILABLE. 0 = no minimum.
   */
  'min_revision': (string);
}
