// Original file: proto/devcompat/v1/history.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp.ts';
import type { ChangeKind as _devcompat_v1_ChangeKind, ChangeKind__Output as _devcompat_v1_ChangeKind__Output } from '../../devcompat/v1/ChangeKind.ts';
import type { ResourceState as _devcompat_v1_ResourceState, ResourceState__Output as _devcompat_v1_ResourceState__Output } from '../../devcompat/v1/ResourceState.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * HistoryEntry is one change to one resource.
 */
export interface HistoryEntry {
  /**
   * revision is the registry revision of the change; one revision may change many resources.
   */
  'revision'?: (number | string | Long);
  /**
   * time is when the change was committed.
   */
  'time'?: (_google_protobuf_Timestamp | null);
  /**
   * resource is the changed resource's name.
   */
  'resource'?: (string);
  /**
   * kind is what the change did.
   */
  'kind'?: (_devcompat_v1_ChangeKind);
  /**
   * actor is who made the change: under mutual TLS the caller's identity from its client
   * certificate (`agent:host-a`), otherwise the request metadata `x-devcompat-actor`;
   * `devcompat` for the server's own changes (a lapsed lease).
   */
  'actor'?: (string);
  /**
   * before is the resource before the change; absent for a creation.
   */
  'before'?: (_devcompat_v1_ResourceState | null);
  /**
   * after is the resource after the change; absent for a deletion.
   */
  'after'?: (_devcompat_v1_ResourceState | null);
  /**
   * reason is why the change was made: request metadata `x-devcompat-reason`, or the
   * server's own reason for a change it made (a lapsed lease).
   */
  'reason'?: (string);
  /**
   * index is the entry's position within its revision, from 0.
   */
  'index'?: (number);
  /**
   * hash is the entry's link in the history chain: hex SHA-256 over the previous entry's
   * hash and this entry's canonical encoding (docs/api.md, "Audit").
   */
  'hash'?: (string);
  /**
   * on_behalf_of is, under mutual TLS, the request metadata `x-devcompat-actor` the caller
   * sent: whom it says it acted for. The actor is then the caller's authenticated identity.
   * Empty when none was sent, and always without mutual TLS (the metadata is the actor).
   */
  'on_behalf_of'?: (string);
}

/**
 * HistoryEntry is one change to one resource.
 */
export interface HistoryEntry__Output {
  /**
   * revision is the registry revision of the change; one revision may change many resources.
   */
  'revision': (string);
  /**
   * time is when the change was committed.
   */
  'time': (_google_protobuf_Timestamp__Output | null);
  /**
   * resource is the changed resource's name.
   */
  'resource': (string);
  /**
   * kind is what the change did.
   */
  'kind': (_devcompat_v1_ChangeKind__Output);
  /**
   * actor is who made the change: under mutual TLS the caller's identity from its client
   * certificate (`agent:host-a`), otherwise the request metadata `x-devcompat-actor`;
   * `devcompat` for the server's own changes (a lapsed lease).
   */
  'actor': (string);
  /**
   * before is the resource before the change; absent for a creation.
   */
  'before': (_devcompat_v1_ResourceState__Output | null);
  /**
   * after is the resource after the change; absent for a deletion.
   */
  'after': (_devcompat_v1_ResourceState__Output | null);
  /**
   * reason is why the change was made: request metadata `x-devcompat-reason`, or the
   * server's own reason for a change it made (a lapsed lease).
   */
  'reason': (string);
  /**
   * index is the entry's position within its revision, from 0.
   */
  'index': (number);
  /**
   * hash is the entry's link in the history chain: hex SHA-256 over the previous entry's
   * hash and this entry's canonical encoding (docs/api.md, "Audit").
   */
  'hash': (string);
  /**
   * on_behalf_of is, under mutual TLS, the request metadata `x-devcompat-actor` the caller
   * sent: whom it says it acted for. The actor is then the caller's authenticated identity.
   * Empty when none was sent, and always without mutual TLS (the metadata is the actor).
   */
  'on_behalf_of': (string);
}
