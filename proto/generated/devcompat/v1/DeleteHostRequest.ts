// Original file: proto/devcompat/v1/registry.proto

import type { Long } from '@grpc/proto-loader';

/**
 * DeleteHostRequest names the host to delete.
 */
export interface DeleteHostRequest {
  /**
   * name is `hosts/{host}`.
   */
  'name'?: (string);
  /**
   * expected_revision, when set, must equal the host's current revision.
   */
  'expected_revision'?: (number | string | Long);
  '_expected_revision'?: "expected_revision";
}

/**
 * DeleteHostRequest names the host to delete.
 */
export interface DeleteHostRequest__Output {
  /**
   * name is `hosts/{host}`.
   */
  'name': (string);
  /**
   * expected_revision, when set, must equal the host's current revision.
   */
  'expected_revision'?: (string);
  '_expected_revision'?: "expected_revision";
}
