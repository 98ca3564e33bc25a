// Original file: proto/devcompat/v1/registry.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp.ts';
import type { HostState as _devcompat_v1_HostState, HostState__Output as _devcompat_v1_HostState__Output } from '../../devcompat/v1/HostState.ts';
import type { Status as _google_rpc_Status, Status__Output as _google_rpc_Status__Output } from '../../google/rpc/Status.ts';

/**
 * KeepAliveResponse answers one KeepAliveRequest, in order.
 */
export interface KeepAliveResponse {
  /**
   * name is the host's resource name, `hosts/{host}`.
   */
  'name'?: (string);
  /**
   * lease_expire_time is the lease's new expiry; absent when error is set.
   */
  'lease_expire_time'?: (_google_protobuf_Timestamp | null);
  /**
   * ttl_ms is the server's lease TTL in milliseconds.
   */
  'ttl_ms'?: (number);
  /**
   * state is the host's state after the keepalive.
   */
  'state'?: (_devcompat_v1_HostState);
  /**
   * error is why the lease could not be renewed (NOT_FOUND for an unknown host); the stream
   * goes on.
   */
  'error'?: (_google_rpc_Status | null);
}

/**
 * KeepAliveResponse answers one KeepAliveRequest, in order.
 */
export interface KeepAliveResponse__Output {
  /**
   * name is the host's resource name, `hosts/{host}`.
   */
  'name': (string);
  /**
   * lease_expire_time is the lease's new expiry; absent when error is set.
   */
  'lease_expire_time': (_google_protobuf_Timestamp__Output | null);
  /**
   * ttl_ms is the server's lease TTL in milliseconds.
   */
  'ttl_ms': (number);
  /**
   * state is the host's state after the keepalive.
   */
  'state': (_devcompat_v1_HostState__Output);
  /**
   * error is why the lease could not be renewed (NOT_FOUND for an unknown host); the stream
   * goes on.
   */
  'error': (_google_rpc_Status__Output | null);
}
