// Original file: proto/devcompat/v1/compatibility.proto

import type { DeviceRef as _devcompat_v1_DeviceRef, DeviceRef__Output as _devcompat_v1_DeviceRef__Output } from '../../devcompat/v1/DeviceRef.ts';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * FindTargetsRequest asks where a source device may go.
 */
export interface FindTargetsRequest {
  /**
   * source is the device the VM uses now; required.
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
   * limit is the maximum number of compatible targets: default 100, maximum 10000.
   */
  'limit'?: (number);
  /**
   * include_rejected also streams incompatible candidates with their reasons (why-not).
   */
  'include_rejected'?: (boolean);
  /**
   * rejected_limit is the maximum number of rejected candidates: default 100, maximum 10000.
   */
  'rejected_limit'?: (number);
  /**
   * include_source_host keeps a registered source's own host among the targets.
   */
  'include_source_host'?: (boolean);
  /**
   * include_unreachable_hosts keeps the devices of UNREACHABLE hosts (left out by default).
   */
  'include_unreachable_hosts'?: (boolean);
  /**
   * include_draining_hosts keeps the devices of DRAINING hosts (left out by default).
   */
  'include_draining_hosts'?: (boolean);
  /**
   * as_of_revision, when set, answers as the registry would have at that revision.
   */
  'as_of_revision'?: (number | string | Long);
  /**
   * as_of_time, when set, answers as the registry would have at that time.
   */
  'as_of_time'?: (_google_protobuf_Timestamp | null);
  /**
   * min_revision, when set, is the lowest registry revision the answer may reflect (read your
   * own writes made through another replica): a server that has not applied it yet waits, up
   * to the call's deadline and at most 5 s, then answers UNAVAILABLE. 0 = no minimum.
   */
  'min_revision'?: (number | string | Long);
}

/**
 * FindTargetsRequest asks where a source device may go.
 */
export interface FindTargetsRequest__Output {
  /**
   * source is the device the VM uses now; required.
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
   * limit is the maximum number of compatible targets: default 100, maximum 10000.
   */
  'limit': (number);
  /**
   * include_rejected also streams incompatible candidates with their reasons (why-not).
   */
  'include_rejected': (boolean);
  /**
   * rejected_limit is the maximum number of rejected candidates: default 100, maximum 10000.
   */
  'rejected_limit': (number);
  /**
   * include_source_host keeps a registered source's own host among the targets.
   */
  'include_source_host': (boolean);
  /**
   * include_unreachable_hosts keeps the devices of UNREACHABLE hosts (left out by default).
   */
  'include_unreachable_hosts': (boolean);
  /**
   * include_draining_hosts keeps the devices of DRAINING hosts (left out by default).
   */
  'include_draining_hosts': (boolean);
  /**
   * as_of_revision, when set, answers as the registry would have at that revision.
   */
  'as_of_revision': (string);
  /**
   * as_of_time, when set, answers as the registry would have at that time.
   */
  'as_of_time': (_google_protobuf_Timestamp__Output | null);
  /**
   * min_revision, when set, is the lowest registry revision the answer may reflect (read your
   * own writes made through another replica): a server that has not applied it yet waits, up
   * to the call's deadline and at most 5 s, then answers UNAVAILABLE. 0 = no minimum.
   */
  'min_revision': (string);
}
