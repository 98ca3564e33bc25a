// The API's messages as the client library sees them: proto field names, int64 as decimal
// strings (revisions stay exact), enums by name. They mirror proto/devcompat/v1/*.proto.

import type { DevcompatError } from './errors.ts';

export type CompareOp =
  | 'COMPARE_OP_EQUAL'
  | 'COMPARE_OP_SEMVER'
  | 'COMPARE_OP_VERSION_GE'
  | 'COMPARE_OP_SEMVER_RANGE'
  | 'COMPARE_OP_SUPERSET'
  | 'COMPARE_OP_SUBSET'
  | 'COMPARE_OP_GE'
  | 'COMPARE_OP_LE'
  | 'COMPARE_OP_ONE_OF'
  | 'COMPARE_OP_CLAIMABLE'
  | 'COMPARE_OP_IGNORE';

export type Verdict = 'VERDICT_COMPATIBLE' | 'VERDICT_COMPATIBLE_WITH_WARNINGS' | 'VERDICT_INCOMPATIBLE';

export interface AttributeValue {
  int_value?: string | number;
  string_value?: string;
  bool_value?: boolean;
  version_value?: string;
  set_value?: { values: string[] };
}

export interface Rule {
  op: CompareOp;
  values?: AttributeValue[];
  range?: string;
  warn_only?: boolean;
}

export interface Descriptor {
  vendor: string;
  device_api: string;
  type: string;
  compatible_types?: string[];
  software_version: string;
  attributes?: Record<string, AttributeValue>;
  rules?: Record<string, Rule>;
}

export interface Capacity {
  total: number;
  available: number;
}

export interface Timestamp {
  seconds: string;
  nanos: number;
}

/** UNSPECIFIED only where the server could not tell (a failed keepalive). */
export type HostState = 'HOST_STATE_UNSPECIFIED' | 'HOST_STATE_READY' | 'HOST_STATE_UNREACHABLE' | 'HOST_STATE_DRAINING';

export interface Host {
  name: string;
  labels: Record<string, string>;
  revision: string;
  create_revision: string;
  create_time: Timestamp;
  update_time: Timestamp;
  last_sync_time: Timestamp;
  device_count: number;
  state: HostState;
  /** The operator's mark; kept while the host is unreachable. */
  draining: boolean;
  /** Absent in history snapshots, watch events and point-in-time reads. */
  lease_expire_time: Timestamp | null;
}

export interface Device {
  name: string;
  descriptor: Descriptor;
  capacity: Capacity | null;
  /** Units live claims hold on the device (placement); what the host reported is `capacity`. */
  claimed?: number;
  labels: Record<string, string>;
  revision: string;
  create_revision: string;
  create_time: Timestamp;
  update_time: Timestamp;
}

export interface DeviceSpec {
  device_id: string;
  descriptor: Descriptor;
  capacity?: Capacity;
  labels?: Record<string, string>;
}

export interface SyncHostRequest {
  name: string;
  labels?: Record<string, string>;
  devices: DeviceSpec[];
  expected_revision?: string | number;
}

export interface SyncHostResponse {
  revision: string;
  host: Host;
  changed: boolean;
  devices_created: number;
  devices_updated: number;
  devices_deleted: number;
  /** The history chain's head after the write (hex SHA-256), for verifyHistory later. */
  head_hash: string;
}

export interface DeleteHostResponse {
  revision: string;
  devices_deleted: number;
  head_hash: string;
}

export interface SetHostDrainingResponse {
  host: Host;
  revision: string;
  /** False when the mark was already as requested. */
  changed: boolean;
  head_hash: string;
}

export interface KeepAliveResponse {
  name: string;
  lease_expire_time: Timestamp | null;
  /** The server's lease TTL in milliseconds. */
  ttl_ms: number;
  state: HostState;
}

/** Options of every write: why it is made (metadata `x-devcompat-reason`), overriding the client's. */
export interface WriteOptions {
  reason?: string;
}

/**
 * A point-in-time read: the registry as it was at a revision, or at a time (the latest
 * revision committed at or before it). At most one of the two.
 */
export interface AsOf {
  as_of_revision?: string | number;
  as_of_time?: Date;
}

export interface DeviceFilter {
  vendor?: string;
  device_api?: string;
  type?: string;
  host?: string;
  labels?: Record<string, string>;
  host_labels?: Record<string, string>;
  software_version_range?: string;
}

export interface Check {
  attribute: string;
  op: CompareOp;
  result: 'CHECK_RESULT_PASS' | 'CHECK_RESULT_FAIL' | 'CHECK_RESULT_WARN';
  reason: string;
  source_value: AttributeValue | null;
  target_value: AttributeValue | null;
}

export interface CompatibilityResult {
  verdict: Verdict;
  checks: Check[];
  required_settings: Record<string, AttributeValue>;
  revision: string;
  engine: { model: string; implementation: string };
  source: string;
  target: string;
}

/** A device by name (`hosts/{host}/devices/{device}`) or an inline descriptor. */
export type DeviceRef = string | Descriptor;

export interface FindTargetsOptions extends AsOf {
  exclude_hosts?: string[];
  host_labels?: Record<string, string>;
  require_available?: boolean;
  limit?: number;
  include_rejected?: boolean;
  rejected_limit?: number;
  include_source_host?: boolean;
  /** Keep the devices of UNREACHABLE hosts (left out by default). */
  include_unreachable_hosts?: boolean;
  /** Keep the devices of DRAINING hosts (left out by default). */
  include_draining_hosts?: boolean;
}

export interface FoundTarget {
  name: string;
  /** 1-based among compatible targets; 0 for a rejected candidate. */
  rank: number;
  result: CompatibilityResult;
  capacity: Capacity | null;
  /** Units live claims hold on the device (placement); what the host reported is `capacity`. */
  claimed?: number;
  exact: boolean;
  host_state: HostState;
}

export interface FindTargetsSummary {
  revision: string;
  candidates: number;
  compatible: number;
  rejected: number;
  distinct_descriptors: number;
  /** Hosts holding candidates left out only because their lease lapsed (include_unreachable_hosts keeps them). */
  unreachable_hosts_left_out: number;
  /** Reachable hosts holding candidates left out only because they are draining (include_draining_hosts keeps them). */
  draining_hosts_left_out: number;
}

export type FindTargetsItem = { target: FoundTarget } | { summary: FindTargetsSummary };

export interface CheckItem {
  id: string;
  source: DeviceRef;
  target: DeviceRef;
}

export interface CheckItemResult {
  id: string;
  result?: CompatibilityResult;
  error?: { code: number; message: string; reason?: string; fieldViolations?: { field: string; description: string }[] };
}

export type ChangeKind = 'CHANGE_KIND_CREATED' | 'CHANGE_KIND_UPDATED' | 'CHANGE_KIND_DELETED';

export interface ResourceState {
  host?: Host;
  device?: Device;
  /** Set for a claim entry (placement.proto `Claim`). */
  claim?: import('../proto/generated/devcompat/v1/Claim.ts').Claim__Output;
}

export interface HistoryEntry {
  revision: string;
  time: Timestamp;
  resource: string;
  kind: ChangeKind;
  /** Under mutual TLS the caller's certificate identity (`agent:host-a`); otherwise `x-devcompat-actor`. */
  actor: string;
  /** Under mutual TLS, the `x-devcompat-actor` the caller sent ('' = none). */
  on_behalf_of: string;
  before: ResourceState | null;
  after: ResourceState | null;
  /** Why: request metadata `x-devcompat-reason`, or the server's own reason (a lapsed lease). */
  reason: string;
  /** Position within its revision, from 0. */
  index: number;
  /** The entry's link in the history chain (hex SHA-256). */
  hash: string;
}

export interface HistoryFilter {
  resource?: string;
  start_revision?: string | number;
  end_revision?: string | number;
  start_time?: Date;
  end_time?: Date;
  actor?: string;
  order?: 'HISTORY_ORDER_NEWEST_FIRST' | 'HISTORY_ORDER_OLDEST_FIRST';
}

export type ChainProblem =
  | 'CHAIN_PROBLEM_UNSPECIFIED'
  | 'CHAIN_PROBLEM_ALTERED'
  | 'CHAIN_PROBLEM_REMOVED_OR_REORDERED'
  | 'CHAIN_PROBLEM_HEAD_NOT_FOUND'
  | 'CHAIN_PROBLEM_HEAD_MISMATCH'
  | 'CHAIN_PROBLEM_COMPACTION_RECORD_BROKEN';

/** One compaction: what was removed, by whom, when, and the head then. */
export interface Compaction {
  checkpoint_revision: string;
  checkpoint_hash: string;
  time: Timestamp | null;
  /** '' for compactions made before compaction records existed. */
  actor: string;
  entries_removed: string;
  head_revision: string;
  head_hash: string;
  record_hash: string;
}

export interface VerifyHistoryResponse {
  intact: boolean;
  /** UNSPECIFIED when intact. */
  problem: ChainProblem;
  /** With index, locates the first broken entry ('0' when intact). */
  revision: string;
  index: number;
  description: string;
  entries_checked: string;
  head_hash: string;
  head_revision: string;
  /** '0' when history was never compacted. */
  checkpoint_revision: string;
  checkpoint_hash: string;
  /** Every compaction, oldest first; when not empty, `description` says so even if intact. */
  compactions: Compaction[];
}

export interface CompactHistoryResponse {
  checkpoint_revision: string;
  checkpoint_hash: string;
  entries_removed: string;
  /** The oldest revision a watch may now start from. */
  oldest_revision: string;
  /** The record of this compaction; null when nothing was removed. */
  compaction: Compaction | null;
}

// -- Watch ------------------------------------------------------------------------------

/** Every field set must match; device fields match the descriptor before or after a change. */
export interface WatchFilter {
  host?: string;
  vendor?: string;
  device_api?: string;
  type?: string;
}

export interface WatchEvent {
  /** As the watcher's filter sees it: a device leaving the filter is DELETED (left_filter). */
  kind: ChangeKind;
  resource: string;
  before: ResourceState | null;
  after: ResourceState | null;
  actor: string;
  reason: string;
  left_filter: boolean;
  entered_filter: boolean;
}

/** All the events of one revision, a progress notification, or (first) the watch's creation. */
export interface WatchResponse {
  revision: string;
  time: Timestamp | null;
  events: WatchEvent[];
  head_hash: string;
  progress: boolean;
  created: boolean;
  oldest_revision: string;
}

export interface WatchOptions {
  /** First revision to deliver (inclusive); absent or 0: from now. */
  startRevision?: string | number | bigint;
  filter?: WatchFilter;
  /** How long the watch may stay quiet before the server sends progress (default 5000, minimum 100). */
  progressIntervalMs?: number;
  /** Aborting ends the iteration quietly. */
  signal?: AbortSignal;
  /**
   * Called each time the watch is interrupted and about to resume (for logs): `attempt` counts
   * the interruptions since the last message received, from 1.
   */
  onResume?: (error: DevcompatError, nextRevision: string | undefined, attempt: number) => void;
}

// -- WatchTargets -----------------------------------------------------------------------

export interface WatchTargetsOptions {
  exclude_hosts?: string[];
  host_labels?: Record<string, string>;
  require_available?: boolean;
  include_source_host?: boolean;
  include_unreachable_hosts?: boolean;
  include_draining_hosts?: boolean;
  signal?: AbortSignal;
}

export type TargetChangeKind = 'TARGET_CHANGE_KIND_ADDED' | 'TARGET_CHANGE_KIND_REMOVED' | 'TARGET_CHANGE_KIND_UPDATED';

export interface TargetChange {
  kind: TargetChangeKind;
  name: string;
  /** Orders targets best first as byte strings, ascending; empty for REMOVED. */
  sort_key: string;
  result: CompatibilityResult | null;
  capacity: Capacity | null;
  /** Units live claims hold on the device (placement); what the host reported is `capacity`. */
  claimed?: number;
  exact: boolean;
  host_state: HostState;
}

export interface WatchTargetsResponse {
  revision: string;
  changes: TargetChange[];
  initial: boolean;
  initial_complete: boolean;
}
