// Original file: proto/devcompat/v1/history.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * Compaction records one compaction: who removed which history, when, and the chain's head
 * at that moment. The records are chained to each other (record_hash).
 */
export interface Compaction {
  /**
   * checkpoint_revision is the last revision this compaction removed.
   */
  'checkpoint_revision'?: (number | string | Long);
  /**
   * checkpoint_hash is the chain's hash at the cut (hex), where the remaining history starts.
   */
  'checkpoint_hash'?: (string);
  /**
   * time is when the compaction ran.
   */
  'time'?: (_google_protobuf_Timestamp | null);
  /**
   * actor is who compacted: an identity under mutual TLS, else the request metadata
   * `x-devcompat-actor`; `devcompat` for retention (--retain). Empty for compactions made
   * before compaction records existed.
   */
  'actor'?: (string);
  /**
   * entries_removed counts the history entries this compaction removed.
   */
  'entries_removed'?: (number | string | Long);
  /**
   * head_revision is the registry's revision when the compaction ran.
   */
  'head_revision'?: (number | string | Long);
  /**
   * head_hash is the chain's head when the compaction ran (hex).
   */
  'head_hash'?: (string);
  /**
   * record_hash is hex SHA-256 over the previous record's hash and this record's canonical
   * encoding (docs/api.md, "Audit"); empty for compactions made before records existed.
   */
  'record_hash'?: (string);
}

/**
 * Compaction records one compaction: who removed which history, when, and the chain's head
 * at that moment. The records are chained to each other (record_hash).
 */
export interface Compaction__Output {
  /**
   * checkpoint_revision is the last revision this compaction removed.
   */
  'checkpoint_revision': (string);
  /**
   * checkpoint_hash is the chain's hash at the cut (hex), where the remaining history starts.
   */
  'checkpoint_hash': (string);
  /**
   * time is when the compaction ran.
   */
  'time': (_google_protobuf_Timestamp__Output | null);
  /**
   * actor is who compacted: an identity under mutual TLS, else the request metadata
   * `x-devcompat-actor`; `devcompat` for retention (--retain). Empty for compactions made
   * before compaction records existed.
   */
  'actor': (string);
  /**
   * entries_removed counts the history entries this compaction removed.
   */
  'entries_removed': (string);
  /**
   * head_revision is the registry's revision when the compaction ran.
   */
  'head_revision': (string);
  /**
   * head_hash is the chain's head when the compaction ran (hex).
   */
  'head_hash': (string);
  /**
   * record_hash is hex SHA-256 over the previous record's hash and this record's canonical
   * encoding (docs/api.md, "Audit"); empty for compactions made before records existed.
   */
  'record_hash': (string);
}
