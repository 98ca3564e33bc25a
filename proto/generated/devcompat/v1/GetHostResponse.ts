// Original file: proto/devcompat/v1/registry.proto

import type { Host as _devcompat_v1_Host, Host__Output as _devcompat_v1_Host__Output } from '../../devcompat/v1/Host.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * GetHostResponse carries one host.
 */
export interface GetHostResponse {
  /**
   * host is the host.
   */
  'host'?: (_devcompat_v1_Host | null);
  /**
   * revision is the registry revision this read reflects.
   */
  'revision'?: (number | string | Long);
}

/**
 * GetHostResponse carries one host.
 */
export interface GetHostResponse__Output {
  /**
   * host is the host.
   */
  'host': (_devcompat_v1_Host__Output | null);
  /**
   * revision is the registry revision this read reflects.
   */
  'revision': (string);
}
