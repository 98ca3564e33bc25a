// Original file: proto/devcompat/v1/registry.proto

import type { Host as _devcompat_v1_Host, Host__Output as _devcompat_v1_Host__Output } from '../../devcompat/v1/Host.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * SyncHostResponse says what the sync changed.
 */
export interface SyncHostResponse {
  /**
   * revision is the registry revision after the write (the current one when nothing changed).
   */
  'revision'?: (number | string | Long);
  /**
   * host is the host after the write.
   */
  'host'?: (_devcompat_v1_Host | null);
  /**
   * changed is false when the request matched what the registry already held.
   */
  'changed'?: (boolean);
  /**
   * devices_created counts devices the sync added.
   */
  'devices_created'?: (number);
  /**
   * devices_updated counts devices whose descriptor, capacity or labels changed.
   */
  'devices_updated'?: (number);
  /**
   * devices_deleted counts devices the sync removed.
   */
  'devices_deleted'?: (number);
  /**
   * head_hash is the history chain's head after the write (hex SHA-256): keep it outside
   * the server to prove later, with VerifyHistory, that history up to it is intact.
   */
  'head_hash'?: (string);
}

/**
 * SyncHostResponse says what the sync changed.
 */
export interface SyncHostResponse__Output {
  /**
   * revision is the registry revision after the write (the current one when nothing changed).
   */
  'revision': (string);
  /**
   * host is the host after the write.
   */
  'host': (_devcompat_v1_Host__Output | null);
  /**
   * changed is false when the request matched what the registry already held.
   */
  'changed': (boolean);
  /**
   * devices_created counts devices the sync added.
   */
  'devices_created': (number);
  /**
   * devices_updated counts devices whose descriptor, capacity or labels changed.
   */
  'devices_updated': (number);
  /**
   * devices_deleted counts devices the sync removed.
   */
  'devices_deleted': (number);
  /**
   * head_hash is the history chain's head after the write (hex SHA-256): keep it outside
   * the server to prove later, with VerifyHistory, that history up to it is intact.
   */
  'head_hash': (string);
}
