// Original file: proto/devcompat/v1/placement.proto

import type { DeviceRequest as _devcompat_v1_DeviceRequest, DeviceRequest__Output as _devcompat_v1_DeviceRequest__Output } from '../../devcompat/v1/DeviceRequest.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * FindPlacementsRequest names a VM's devices and the hosts to consider; the filters mean what
 * they mean in FindTargetsRequest.
 */
export interface FindPlacementsRequest {
  /**
   * devices are the VM's device requests: at least 1, at most 16.
   */
  'devices'?: (_devcompat_v1_DeviceRequest)[];
  /**
   * exclude_hosts leaves out these hosts (`hosts/{host}` or bare ids).
   */
  'exclude_hosts'?: (string)[];
  /**
   * host_labels keeps only hosts that have every one of these labels.
   */
  'host_labels'?: ({[key: string]: string});
  /**
   * include_unreachable_hosts keeps UNREACHABLE hosts (left out by default).
   */
  'include_unreachable_hosts'?: (boolean);
  /**
   * include_draining_hosts keeps DRAINING hosts (left out by default).
   */
  'include_draining_hosts'?: (boolean);
  /**
   * include_source_hosts keeps the hosts of registered sources (left out by default: the VM
   * runs there now).
   */
  'include_source_hosts'?: (boolean);
  /**
   * limit is the maximum number of placements streamed: default 10, maximum 1000.
   */
  'limit'?: (number);
  /**
   * explain also streams, after the placements, hosts that could take some but not all of
   * the VM's devices, with what is missing.
   */
  'explain'?: (boolean);
  /**
   * explain_limit is the maximum number of partial placements streamed: default 10,
   * maximum 1000.
   */
  'explain_limit'?: (number);
  /**
   * min_revision, when set, is the lowest registry revision the answer may reflect (read your
   * own writes made through another replica): a server that has not applied it yet waits, up
   * to the call's deadline and at most 5 s, then answers UNAVAILABLE. 0 = no minimum.
   */
  'min_revision'?: (number | string | Long);
}

/**
 * FindPlacementsRequest names a VM's devices and the hosts to consider; the filters mean what
 * they mean in FindTargetsRequest.
 */
export interface FindPlacementsRequest__Output {
  /**
   * devices are the VM's device requests: at least 1, at most 16.
   */
  'devices': (_devcompat_v1_DeviceRequest__Output)[];
  /**
   * exclude_hosts leaves out these hosts (`hosts/{host}` or bare ids).
   */
  'exclude_hosts': (string)[];
  /**
   * host_labels keeps only hosts that have every one of these labels.
   */
  'host_labels': ({[key: string]: string});
  /**
   * include_unreachable_hosts keeps UNREACHABLE hosts (left out by default).
   */
  'include_unreachable_hosts': (boolean);
  /**
   * include_draining_hosts keeps DRAINING hosts (left out by default).
   */
  'include_draining_hosts': (boolean);
  /**
   * include_source_hosts keeps the hosts of registered sources (left out by default: the VM
   * runs there now).
   */
  'include_source_hosts': (boolean);
  /**
   * limit is the maximum number of placements streamed: default 10, maximum 1000.
   */
  'limit': (number);
  /**
   * explain also streams, after the placements, hosts that could take some but not all of
   * the VM's devices, with what is missing.
   */
  'explain': (boolean);
  /**
   * explain_limit is the maximum number of partial placements streamed: default 10,
   * maximum 1000.
   */
  'explain_limit': (number);
  /**
   * min_revision, when set, is the lowest registry revision the answer may reflect (read your
   * own writes made through another replica): a server that has not applied it yet waits, up
   * to the call's deadline and at most 5 s, then answers UNAVAILABLE. 0 = no minimum.
   */
  'min_revision': (string);
}
