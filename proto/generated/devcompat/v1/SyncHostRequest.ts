// Original file: proto/devcompat/v1/registry.proto

import type { DeviceSpec as _devcompat_v1_DeviceSpec, DeviceSpec__Output as _devcompat_v1_DeviceSpec__Output } from '../../devcompat/v1/DeviceSpec.ts';
import type { Budget as _devcompat_v1_Budget, Budget__Output as _devcompat_v1_Budget__Output } from '../../devcompat/v1/Budget.ts';
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
  /**
   * budgets replace the host's shared budgets (at most 256; budget ids unique): physical
   * resources that several of its devices draw on, such as a parent GPU's graphics memory
   * behind its mdev types. Omitted means the host has none.
   */
  'budgets'?: (_devcompat_v1_Budget)[];
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
  /**
   * budgets replace the host's shared budgets (at most 256; budget ids unique): physical
   * resources that several of its devices draw on, such as a parent GPU's graphics memory
   * behind its mdev types. Omitted means the host has none.
   */
  'budgets': (_devcompat_v1_Budget__Output)[];
  '_expected_revision'?: "expected_revision";
}
