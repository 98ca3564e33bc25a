// Original file: proto/devcompat/v1/registry.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp.ts';
import type { HostState as _devcompat_v1_HostState, HostState__Output as _devcompat_v1_HostState__Output } from '../../devcompat/v1/HostState.ts';
import type { BudgetStatus as _devcompat_v1_BudgetStatus, BudgetStatus__Output as _devcompat_v1_BudgetStatus__Output } from '../../devcompat/v1/BudgetStatus.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * Host is one machine whose devices are registered.
 */
export interface Host {
  /**
   * name is the resource name `hosts/{host}`.
   */
  'name'?: (string);
  /**
   * labels are the host's labels (at most 64).
   */
  'labels'?: ({[key: string]: string});
  /**
   * revision is the registry revision of the host's last change, its devices included.
   */
  'revision'?: (number | string | Long);
  /**
   * create_revision is the registry revision that created the host.
   */
  'create_revision'?: (number | string | Long);
  /**
   * create_time is when the host was created.
   */
  'create_time'?: (_google_protobuf_Timestamp | null);
  /**
   * update_time is when the host or one of its devices last changed.
   */
  'update_time'?: (_google_protobuf_Timestamp | null);
  /**
   * last_sync_time is when the host agent last synced, whether or not anything changed.
   */
  'last_sync_time'?: (_google_protobuf_Timestamp | null);
  /**
   * device_count is the number of devices the host has.
   */
  'device_count'?: (number);
  /**
   * state is UNREACHABLE when the lease lapsed, else DRAINING when marked so, else READY.
   */
  'state'?: (_devcompat_v1_HostState);
  /**
   * draining is the operator's draining mark; it is kept while the host is unreachable.
   */
  'draining'?: (boolean);
  /**
   * lease_expire_time is when the host becomes UNREACHABLE unless its agent syncs or sends
   * a keepalive; absent in history snapshots and point-in-time reads.
   */
  'lease_expire_time'?: (_google_protobuf_Timestamp | null);
  /**
   * budgets are the shared budgets the host declared in its last sync, in budget id order,
   * each with what live claims hold of it.
   */
  'budgets'?: (_devcompat_v1_BudgetStatus)[];
}

/**
 * Host is one machine whose devices are registered.
 */
export interface Host__Output {
  /**
   * name is the resource name `hosts/{host}`.
   */
  'name': (string);
  /**
   * labels are the host's labels (at most 64).
   */
  'labels': ({[key: string]: string});
  /**
   * revision is the registry revision of the host's last change, its devices included.
   */
  'revision': (string);
  /**
   * create_revision is the registry revision that created the host.
   */
  'create_revision': (string);
  /**
   * create_time is when the host was created.
   */
  'create_time': (_google_protobuf_Timestamp__Output | null);
  /**
   * update_time is when the host or one of its devices last changed.
   */
  'update_time': (_google_protobuf_Timestamp__Output | null);
  /**
   * last_sync_time is when the host agent last synced, whether or not anything changed.
   */
  'last_sync_time': (_google_protobuf_Timestamp__Output | null);
  /**
   * device_count is the number of devices the host has.
   */
  'device_count': (number);
  /**
   * state is UNREACHABLE when the lease lapsed, else DRAINING when marked so, else READY.
   */
  'state': (_devcompat_v1_HostState__Output);
  /**
   * draining is the operator's draining mark; it is kept while the host is unreachable.
   */
  'draining': (boolean);
  /**
   * lease_expire_time is when the host becomes UNREACHABLE unless its agent syncs or sends
   * a keepalive; absent in history snapshots and point-in-time reads.
   */
  'lease_expire_time': (_google_protobuf_Timestamp__Output | null);
  /**
   * budgets are the shared budgets the host declared in its last sync, in budget id order,
   * each with what live claims hold of it.
   */
  'budgets': (_devcompat_v1_BudgetStatus__Output)[];
}
