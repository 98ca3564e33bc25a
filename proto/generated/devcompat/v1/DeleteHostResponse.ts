// Original file: proto/devcompat/v1/registry.proto

import type { Long } from '@grpc/proto-loader';

/**
 * DeleteHostResponse says what was deleted.
 */
export interface DeleteHostResponse {
  /**
   * revision is the registry revision of the deletion.
   */
  'revision'?: (number | string | Long);
  /**
   * devices_deleted counts the devices removed with the host.
   */
  'devices_deleted'?: (number);
  /**
   * head_hash is the history chain's head after the write (hex SHA-256).
   */
  'head_hash'?: (string);
}

/**
 * DeleteHostResponse says what was deleted.
 */
export interface DeleteHostResponse__Output {
  /**
   * revision is the registry revision of the deletion.
   */
  'revision': (string);
  /**
   * devices_deleted counts the devices removed with the host.
   */
  'devices_deleted': (number);
  /**
   * head_hash is the history chain's head after the write (hex SHA-256).
   */
  'head_hash': (string);
}
