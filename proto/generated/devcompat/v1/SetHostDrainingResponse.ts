// Original file: proto/devcompat/v1/registry.proto

import type { Host as _devcompat_v1_Host, Host__Output as _devcompat_v1_Host__Output } from '../../devcompat/v1/Host.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * SetHostDrainingResponse carries the host after the change.
 */
export interface SetHostDrainingResponse {
  /**
   * host is the host after the change.
   */
  'host'?: (_devcompat_v1_Host | null);
  /**
   * revision is the registry revision after the call (the current one when the mark was
   * already as requested).
   */
  'revision'?: (number | string | Long);
  /**
   * changed is false when the mark was already as requested.
   */
  'changed'?: (boolean);
  /**
   * head_hash is the history chain's head after the call (hex SHA-256).
   */
  'head_hash'?: (string);
}

/**
 * SetHostDrainingResponse carries the host after the change.
 */
export interface SetHostDrainingResponse__Output {
  /**
   * host is the host after the change.
   */
  'host': (_devcompat_v1_Host__Output | null);
  /**
   * revision is the registry revision after the call (the current one when the mark was
   * already as requested).
   */
  'revision': (string);
  /**
   * changed is false when the mark was already as requested.
   */
  'changed': (boolean);
  /**
   * head_hash is the history chain's head after the call (hex SHA-256).
   */
  'head_hash': (string);
}
