// The API's messages as the client library sees them: proto field names, int64 as decimal
// strings (revisions stay exact), enums by name. They mirror proto/devcompat/v1/*.proto.

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

export interface Host {
  name: string;
  labels: Record<string, string>;
  revision: string;
  create_revision: string;
  create_time: Timestamp;
  update_time: Timestamp;
  last_sync_time: Timestamp;
  device_count: number;
}

export interface Device {
  name: string;
  descriptor: Descriptor;
  capacity: Capacity | null;
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
}

export interface DeleteHostResponse {
  revision: string;
  devices_deleted: number;
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

export interface FindTargetsOptions {
  exclude_hosts?: string[];
  host_labels?: Record<string, string>;
  require_available?: boolean;
  limit?: number;
  include_rejected?: boolean;
  rejected_limit?: number;
  include_source_host?: boolean;
}

export interface FoundTarget {
  name: string;
  /** 1-based among compatible targets; 0 for a rejected candidate. */
  rank: number;
  result: CompatibilityResult;
  capacity: Capacity | null;
  exact: boolean;
}

export interface FindTargetsSummary {
  revision: string;
  candidates: number;
  compatible: number;
  rejected: number;
  distinct_descriptors: number;
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
}

export interface HistoryEntry {
  revision: string;
  time: Timestamp;
  resource: string;
  kind: ChangeKind;
  actor: string;
  before: ResourceState | null;
  after: ResourceState | null;
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
