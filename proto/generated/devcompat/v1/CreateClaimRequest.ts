// Original file: proto/devcompat/v1/placement.proto

import type { ClaimDeviceSpec as _devcompat_v1_ClaimDeviceSpec, ClaimDeviceSpec__Output as _devcompat_v1_ClaimDeviceSpec__Output } from '../../devcompat/v1/ClaimDeviceSpec.ts';

/**
 * CreateClaimRequest reserves units on one host.
 */
export interface CreateClaimRequest {
  /**
   * parent is the claim's host, `hosts/{host}`.
   */
  'parent'?: (string);
  /**
   * claim_id is the idempotency key, typically the migration's id: letters, digits, `.`,
   * `_`, `:`, `-`, at most 128 characters. It names the claim.
   */
  'claim_id'?: (string);
  /**
   * devices are the units to reserve: at least 1, at most 32 devices, at most 32 units in all
   * (any placement FindPlacements returns fits one claim).
   */
  'devices'?: (_devcompat_v1_ClaimDeviceSpec)[];
  /**
   * ttl_ms is the time to live in milliseconds: default 300000 (5 minutes), minimum 1000,
   * maximum 3600000 (1 hour).
   */
  'ttl_ms'?: (number);
}

/**
 * CreateClaimRequest reserves units on one host.
 */
export interface CreateClaimRequest__Output {
  /**
   * parent is the claim's host, `hosts/{host}`.
   */
  'parent': (string);
  /**
   * claim_id is the idempotency key, typically the migration's id: letters, digits, `.`,
   * `_`, `:`, `-`, at most 128 characters. It names the claim.
   */
  'claim_id': (string);
  /**
   * devices are the units to reserve: at least 1, at most 32 devices, at most 32 units in all
   * (any placement FindPlacements returns fits one claim).
   */
  'devices': (_devcompat_v1_ClaimDeviceSpec__Output)[];
  /**
   * ttl_ms is the time to live in milliseconds: default 300000 (5 minutes), minimum 1000,
   * maximum 3600000 (1 hour).
   */
  'ttl_ms': (number);
}
