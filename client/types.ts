// The API's messages as the client library sees them, typed as the values really are at run
// time. They mirror proto/devcompat/v1/*.proto:
// - messages use the proto field names (`device_api`, `warn_only`) both ways; a request with a
//   field the message does not have (`warnOnly`) is refused (client/messages.ts);
// - a method's options (everything that is not a message) are camelCase (`requireAvailable`);
// - int64 values, revisions included, come back as decimal strings (exact beyond 2^53; compare
//   revisions with `compareRevisions`, never with `<` on strings) and go in as a string, a
//   number or a bigint;
// - google.protobuf.Timestamp values are Dates both ways;
// - an attribute value is a union discriminated by `kind`, as the client returns it;
// - enums by their full names.

import type { DevcompatError } from './errors.ts';
import type { BudgetStatus__Output } from '../proto/generated/devcompat/v1/BudgetStatus.ts';
import type { ClaimedDevice__Output } from '../proto/generated/devcompat/v1/ClaimedDevice.ts';
import type { ClaimState__Output } from '../proto/generated/devcompat/v1/ClaimState.ts';

/** A revision as a request takes it: a decimal string, a number or a bigint. Answers carry decimal strings. */
export type RevisionInput = string | number | bigint;

/** An int64 as a request takes it. */
export type Int64Input = string | number | bigint;

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

/** One typed attribute value as the client returns it: `kind` names the one member that is set. */
export type AttributeValue =
  | { kind: 'int_value'; int_value: string }
  | { kind: 'string_value'; string_value: string }
  | { kind: 'bool_value'; bool_value: boolean }
  | { kind: 'version_value'; version_value: string }
  | { kind: 'set_value'; set_value: { values: string[] } };

/** One typed attribute value as a request takes it: exactly one member, `kind` optional (it must name that member). */
export type AttributeValueInput =
  | { kind?: 'int_value'; int_value: Int64Input }
  | { kind?: 'string_value'; string_value: string }
  | { kind?: 'bool_value'; bool_value: boolean }
  | { kind?: 'version_value'; version_value: string }
  | { kind?: 'set_value'; set_value: { values: string[] } };

/** A rule as the client returns it (every field present). */
export interface Rule {
  op: CompareOp;
  values: AttributeValue[];
  range: string;
  warn_only: boolean;
}

export interface RuleInput {
  op: CompareOp;
  values?: AttributeValueInput[];
  range?: string;
  warn_only?: boolean;
}

/** A descriptor as the client returns it (every field present). */
export interface Descriptor {
  vendor: string;
  device_api: string;
  type: string;
  compatible_types: string[];
  software_version: string;
  attributes: Record<string, AttributeValue>;
  rules: Record<string, Rule>;
}

/** A descriptor as a request takes it; a Descriptor the client returned is one. */
export interface DescriptorInput {
  vendor: string;
  device_api: string;
  type: string;
  compatible_types?: string[];
  software_version: string;
  attributes?: Record<string, AttributeValueInput>;
  rules?: Record<string, RuleInput>;
}

export interface Capacity {
  total: number;
  available: number;
}

/** UNSPECIFIED only where the server could not tell (a failed keepalive). */
export type HostState = 'HOST_STATE_UNSPECIFIED' | 'HOST_STATE_READY' | 'HOST_STATE_UNREACHABLE' | 'HOST_STATE_DRAINING';

export interface Host {
  name: string;
  labels: Record<string, string>;
  revision: string;
  create_revision: string;
  create_time: Date;
  update_time: Date;
  last_sync_time: Date;
  device_count: number;
  state: HostState;
  /** The operator's mark; kept while the host is unreachable. */
  draining: boolean;
  /** Null in history snapshots, watch events and point-in-time reads. */
  lease_expire_time: Date | null;
  /** The shared budgets of its last sync, budget id order, with what live claims hold of each. */
  budgets: BudgetStatus__Output[];
}

/** A shared budget of a parent device that several devices of a host draw on (docs/model.md, "Shared budgets"). */
export interface Budget {
  budget_id: string;
  parent?: string;
  /** uint64 on the wire: a decimal string when read, a number or string when sent. */
  total: string | number;
  available: string | number;
  /** Device id -> amount one unit of it uses. */
  consumption: Record<string, string | number>;
}

export interface BudgetStatus {
  budget: Budget;
  /** How much of the budget the units live claims hold use (decimal string). */
  claimed: string;
}

export interface Device {
  name: string;
  descriptor: Descriptor;
  capacity: Capacity | null;
  /** Units live claims hold on the device (placement); what the host reported is `capacity`. */
  claimed: number;
  /** Units one new claim on it alone could take: claims counted, shared budgets applied. */
  free_units?: number;
  labels: Record<string, string>;
  revision: string;
  create_revision: string;
  create_time: Date;
  update_time: Date;
}

export interface DeviceSpec {
  device_id: string;
  descriptor: DescriptorInput;
  capacity?: Capacity;
  labels?: Record<string, string>;
}

export interface SyncHostRequest {
  name: string;
  labels?: Record<string, string>;
  devices: DeviceSpec[];
  /** Refuse the write (ABORTED, REVISION_MISMATCH) unless the host is at this revision (0: absent). */
  expected_revision?: RevisionInput;
  /** Replaces the host's shared budgets; omitted: none. */
  budgets?: Budget[];
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
  lease_expire_time: Date | null;
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
  asOfRevision?: RevisionInput;
  asOfTime?: Date;
}

/**
 * Read your own writes made through another replica: the lowest registry revision the answer
 * must reflect (request field `min_revision`). A server that has not applied it yet waits, up
 * to the call's deadline and at most 5 s, then answers UNAVAILABLE, which the client retries
 * while its retry budget and the deadline last. With `readYourWrites` (ClientOptions) the
 * client sends the newest revision its own writes returned, or this one when it is newer.
 */
export interface MinRevision {
  minRevision?: RevisionInput;
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
export type DeviceRef = string | DescriptorInput;

/** Which targets a FindTargets or WatchTargets considers. */
export interface TargetFilterOptions {
  /** Hosts (`hosts/{host}`) whose devices are not targets. */
  excludeHosts?: string[];
  /** Only devices of hosts with all these labels. */
  hostLabels?: Record<string, string>;
  /** Only devices with free capacity (available minus claimed units > 0). */
  requireAvailable?: boolean;
  /** Keep the devices of the source's own host (left out by default). */
  includeSourceHost?: boolean;
  /** Keep the devices of UNREACHABLE hosts (left out by default). */
  includeUnreachableHosts?: boolean;
  /** Keep the devices of DRAINING hosts (left out by default). */
  includeDrainingHosts?: boolean;
}

export interface FindTargetsOptions extends TargetFilterOptions, AsOf, MinRevision {
  /** Compatible targets at most (0: the server's default). */
  limit?: number;
  /** Also stream the rejected candidates, each with its failing checks. */
  includeRejected?: boolean;
  /** Rejected candidates at most. */
  rejectedLimit?: number;
}

export interface FoundTarget {
  name: string;
  /** 1-based among compatible targets; 0 for a rejected candidate. */
  rank: number;
  result: CompatibilityResult;
  capacity: Capacity | null;
  /** Units live claims hold on the device (placement); what the host reported is `capacity`. */
  claimed: number;
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
  /** Chosen by the stream when absent. */
  id?: string;
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
  claim?: Claim;
}

/** Capacity reserved on devices of one host for one migration (placement.proto). */
export interface Claim {
  /** `hosts/{host}/claims/{claim_id}`. */
  name: string;
  devices: ClaimedDevice__Output[];
  state: ClaimState__Output;
  ttl_ms: number;
  create_time: Date | null;
  expire_time: Date | null;
  end_time: Date | null;
  /**
   * Who created it: under mutual TLS the caller's identity (only it or an `admin` may renew or
   * release it), else `x-devcompat-actor`; '' for a claim from before claims had owners.
   */
  owner: string;
}

export interface HistoryEntry {
  revision: string;
  time: Date;
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

/** Which history entries ListHistory returns; every field set must match. */
export interface HistoryFilter {
  /** One resource (`hosts/{host}`, `hosts/{host}/devices/{device}` or `hosts/{host}/claims/{claim_id}`). */
  resource?: string;
  startRevision?: RevisionInput;
  endRevision?: RevisionInput;
  startTime?: Date;
  endTime?: Date;
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
  time: Date | null;
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

// -- Admin ------------------------------------------------------------------------------

export interface BackupResponse {
  /** The file the server wrote, on its host. */
  path: string;
  /** The revision the copy holds. */
  revision: string;
  /** The history head the copy ends at: prove it with `audit verify --expect-head`. */
  head_hash: string;
  size_bytes: string;
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
  time: Date | null;
  events: WatchEvent[];
  head_hash: string;
  progress: boolean;
  created: boolean;
  oldest_revision: string;
}

export interface WatchOptions extends MinRevision {
  /** First revision to deliver (inclusive); absent or 0: from now. */
  startRevision?: RevisionInput;
  /** How long the watch may last in all, resumptions included (default: no end). */
  deadlineMs?: number;
  filter?: WatchFilter;
  /** How long the watch may stay quiet before the server sends progress (default 5000, minimum 100). */
  progressIntervalMs?: number;
  /** Aborting ends the iteration quietly. */
  signal?: AbortSignal;
  /**
   * Called each time the watch is interrupted and about to resume (for logs): `attempt` counts
   * the interruptions since the last event or progress message received, from 1 (a `created`
   * message alone does not end the count: a server that fails each stream after it is not
   * seen as healthy).
   */
  onResume?: (error: DevcompatError, nextRevision: string | undefined, attempt: number) => void;
}

// -- WatchTargets -----------------------------------------------------------------------

export interface WatchTargetsOptions extends TargetFilterOptions, MinRevision {
  /** How long the stream may last (default: no end). */
  deadlineMs?: number;
  /** Aborting ends the iteration quietly. */
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
  claimed: number;
  exact: boolean;
  host_state: HostState;
}

export interface WatchTargetsResponse {
  revision: string;
  changes: TargetChange[];
  initial: boolean;
  initial_complete: boolean;
}
