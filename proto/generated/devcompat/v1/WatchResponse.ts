// Original file: proto/devcompat/v1/watch.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp.ts';
import type { WatchEvent as _devcompat_v1_WatchEvent, WatchEvent__Output as _devcompat_v1_WatchEvent__Output } from '../../devcompat/v1/WatchEvent.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * WatchResponse carries all the events of one revision, or a progress notification.
 */
export interface WatchResponse {
  /**
   * revision is the revision of the events, or for a progress message the current revision:
   * every event up to it matching the filter has been delivered.
   */
  'revision'?: (number | string | Long);
  /**
   * time is when the revision was committed.
   */
  'time'?: (_google_protobuf_Timestamp | null);
  /**
   * events are the revision's events that match the filter, in history order.
   */
  'events'?: (_devcompat_v1_WatchEvent)[];
  /**
   * head_hash is the history chain's head at this revision (hex SHA-256).
   */
  'head_hash'?: (string);
  /**
   * progress is true for a progress notification (no events).
   */
  'progress'?: (boolean);
  /**
   * created is true on the first message, sent once the watch is registered; its revision
   * is the registry's revision at that moment.
   */
  'created'?: (boolean);
  /**
   * oldest_revision is, on the first message, the oldest revision a watch may start from.
   */
  'oldest_revision'?: (number | string | Long);
}

/**
 * WatchResponse carries all the events of one revision, or a progress notification.
 */
export interface WatchResponse__Output {
  /**
   * revision is the revision of the events, or for a progress message the current revision:
   * every event up to it matching the filter has been delivered.
   */
  'revision': (string);
  /**
   * time is when the revision was committed.
   */
  'time': (_google_protobuf_Timestamp__Output | null);
  /**
   * events are the revision's events that match the filter, in history order.
   */
  'events': (_devcompat_v1_WatchEvent__Output)[];
  /**
   * head_hash is the history chain's head at this revision (hex SHA-256).
   */
  'head_hash': (string);
  /**
   * progress is true for a progress notification (no events).
   */
  'progress': (boolean);
  /**
   * created is true on the first message, sent once the watch is registered; its revision
   * is the registry's revision at that moment.
   */
  'created': (boolean);
  /**
   * oldest_revision is, on the first message, the oldest revision a watch may start from.
   */
  'oldest_revision': (string);
}
