// Original file: proto/devcompat/v1/placement.proto

import type { Claim as _devcompat_v1_Claim, Claim__Output as _devcompat_v1_Claim__Output } from '../../devcompat/v1/Claim.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * ReleaseClaimResponse carries the released claim.
 */
export interface ReleaseClaimResponse {
  /**
   * claim is the claim as released (state RELEASED, end_time set).
   */
  'claim'?: (_devcompat_v1_Claim | null);
  /**
   * revision is the registry revision of the release.
   */
  'revision'?: (number | string | Long);
  /**
   * head_hash is the history chain's head after the release (hex SHA-256).
   */
  'head_hash'?: (string);
}

/**
 * ReleaseClaimResponse carries the released claim.
 */
export interface ReleaseClaimResponse__Output {
  /**
   * claim is the claim as released (state RELEASED, end_time set).
   */
  'claim': (_devcompat_v1_Claim__Output | null);
  /**
   * revision is the registry revision of the release.
   */
  'revision': (string);
  /**
   * head_hash is the history chain's head after the release (hex SHA-256).
   */
  'head_hash': (string);
}
