// Original file: proto/devcompat/v1/registry.proto

import type { DeviceSpec as _devcompat_v1_DeviceSpec, DeviceSpec__Output as _devcompat_v1_DeviceSpec__Output } from '../../devcompat/v1/DeviceSpec.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * SyncHostRequest is the full state of one host.
 */
export interface SyncHostRequest {
  /**
   * name is `hosts/{host}` (or the bare host id).
   */
  'name'?: (string);
  /**
   * labels replace the host's labels.
   */
  'labels'?: ({[key: string]: string});
  /**
   * devices replace the host's devices (at most 4096; device ids unique).
   */
  'devices'?: (_devcompat_v1_DeviceSpec)[];
  /**
   * expected_revision, when set, must equal the host's current revision (0 = must not
   * exist yet), else the call fails with ABORTED and nothing is written.
   */
  'expected_revision'?: (number | string | Long);
  '_expected_revision'?: "expected_revision";
}

/**
 * SyncHostRequest is the full state of one host.
 */
export interface SyncHostRequest__Output {
  /**
   * name is `hosts/{host}` (or the bare host id).
   */
  'name': (string);
  /**
   * labels replace the host's labels.
   */
  'labels': ({[key: string]: string});
  /**
   * devices replace the host's devices (at most 4096; device ids unique).
   */
  'devices': (_devcompat_v1_DeviceSpec__Output)[];
  /**
   * expected_revision, when set, must equal the host's current revision (0 = must not
   * exist yet), else the call fails with ABORTED and nothing is written.
   */
  'expected_revision'?: (string);
  '_expected_revision'?: "expected_revision";
}
