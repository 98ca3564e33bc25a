// Original file: proto/devcompat/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

/**
 * BackupResponse describes the copy written.
 */
export interface BackupResponse {
  /**
   * path is the file written.
   */
  'path'?: (string);
  /**
   * revision is the registry revision the copy holds: the last committed when it was taken.
   */
  'revision'?: (number | string | Long);
  /**
   * head_hash is the history chain head the copy ends at (hex SHA-256).
   */
  'head_hash'?: (string);
  /**
   * size_bytes is the copy's size in bytes.
   */
  'size_bytes'?: (number | string | Long);
}

/**
 * BackupResponse describes the copy written.
 */
export interface BackupResponse__Output {
  /**
   * path is the file written.
   */
  'path': (string);
  /**
   * revision is the registry revision the copy holds: the last committed when it was taken.
   */
  'revision': (string);
  /**
   * head_hash is the history chain head the copy ends at (hex SHA-256).
   */
  'head_hash': (string);
  /**
   * size_bytes is the copy's size in bytes.
   */
  'size_bytes': (string);
}
