// From the core's records to the proto-loader objects grpc-js encodes (proto field names,
// int64 as decimal strings, enums by name).

import { COMPAT_MODEL_VERSION, ENGINE_IMPLEMENTATION } from '../core/model.ts';
import type { Capacity, Check, Value } from '../core/model.ts';
import { hostState, type CachedVerdict, type LiveDevice, type LiveHost, type Registry } from '../core/registry.ts';
import { deviceName, hostName } from '../core/resources.ts';
import { claimIdOfEntry, type ClaimRecord, type DeviceRecord, type HistoryRecord, type HostRecord, type ResourceSnapshot } from '../core/store.ts';
import { claimName } from '../core/claims.ts';
import { descriptorToJson } from '../core/validate.ts';
import { valueToJson } from '../core/values.ts';
import type { Budget } from '../core/budgets.ts';

export interface Timestamp {
  seconds: string;
  nanos: number;
}

export function timestamp(ms: number): Timestamp {
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}

/**
 * History times are whole milliseconds, so a bound with sub-millisecond precision rounds up:
 * an entry at t ms is at or after `start` exactly when t >= ceil(start), and before `end`
 * exactly when t < ceil(end).
 */
export function timestampToMs(value: { seconds?: string | number; nanos?: number } | null | undefined): number | undefined {
  if (!value) return undefined;
  return Number(value.seconds ?? 0) * 1000 + Math.ceil((value.nanos ?? 0) / 1_000_000);
}

export function hostStateName(record: HostRecord): string {
  return `HOST_STATE_${hostState(record)}`;
}

/** A host's shared budgets (BudgetStatus), with what live claims hold of each (none in the past). */
function budgetsMessage(budgets: readonly Budget[] | undefined, claimed: ReadonlyMap<string, number> | undefined) {
  return (budgets ?? []).map((budget) => ({
    budget: {
      budget_id: budget.budgetId,
      parent: budget.parent,
      total: String(budget.total),
      available: String(budget.available),
      consumption: Object.fromEntries([...budget.consumption].map(([deviceId, perUnit]) => [deviceId, String(perUnit)])),
    },
    claimed: String(claimed?.get(budget.budgetId) ?? 0),
  }));
}

export function hostMessage(
  record: HostRecord,
  deviceCount: number,
  leaseExpiry?: number,
  budgetClaims?: ReadonlyMap<string, number>,
) {
  return {
    budgets: budgetsMessage(record.budgets, budgetClaims),
    name: hostName(record.hostId),
    labels: record.labels,
    revision: String(record.revision),
    create_revision: String(record.createRevision),
    create_time: timestamp(record.createTime),
    update_time: timestamp(record.updateTime),
    last_sync_time: timestamp(record.lastSyncTime),
    device_count: deviceCount,
    state: hostStateName(record),
    draining: record.draining,
    lease_expire_time: leaseExpiry === undefined ? null : timestamp(leaseExpiry),
  };
}

/** A live host, its budgets with what live claims hold of them (`registry.budgetClaims`). */
export function liveHostMessage(host: LiveHost, budgetClaims?: ReadonlyMap<string, number>) {
  return hostMessage(host.record, host.devices.size, host.leaseExpiry, budgetClaims);
}

export function capacityMessage(capacity: Capacity | undefined) {
  return capacity ? { total: capacity.total, available: capacity.available } : null;
}

export function deviceMessage(record: DeviceRecord, registry: Registry) {
  return {
    name: deviceName(record.hostId, record.deviceId),
    descriptor: descriptorToJson(registry.descriptorById(record.descriptorId)),
    capacity: capacityMessage(record.capacity),
    labels: record.labels,
    revision: String(record.revision),
    create_revision: String(record.createRevision),
    create_time: timestamp(record.createTime),
    update_time: timestamp(record.updateTime),
  };
}

/** A live device with the units live claims hold on it and its free units (placement). */
export function liveDeviceMessage(device: LiveDevice, claimed: number, freeUnits: number) {
  return {
    claimed,
    free_units: freeUnits,
    name: device.name,
    descriptor: descriptorToJson(device.entry.descriptor),
    capacity: capacityMessage(device.record.capacity),
    labels: device.record.labels,
    revision: String(device.record.revision),
    create_revision: String(device.record.createRevision),
    create_time: timestamp(device.record.createTime),
    update_time: timestamp(device.record.updateTime),
  };
}

export function snapshotMessage(snapshot: ResourceSnapshot | undefined, registry: Registry) {
  if (!snapshot) return null;
  if (snapshot.kind === 'claim') return { claim: claimMessage(snapshot.claim) };
  return snapshot.kind === 'host'
    ? { host: hostMessage(snapshot.host, 0) }
    : { device: deviceMessage(snapshot.device, registry) };
}

/** A claim as the API shows it (placement.proto `Claim`). */
export function claimMessage(claim: ClaimRecord) {
  return {
    name: claimName(claim.hostId, claim.claimId),
    devices: claim.devices.map((d) => ({ device: deviceName(claim.hostId, d.deviceId), count: d.count, remaining: d.remaining })),
    state: claim.state,
    ttl_ms: claim.ttlMs,
    create_time: timestamp(claim.createTimeMs),
    expire_time: timestamp(claim.expireTimeMs),
    end_time: claim.endTimeMs === undefined ? null : timestamp(claim.endTimeMs),
    create_revision: String(claim.createRevision),
    revision: String(claim.revision),
    owner: claim.owner,
  };
}

/** The name of the resource a history entry is about: a host, a device or a claim. */
export function entryResourceName(entry: HistoryRecord): string {
  if (!entry.deviceId) return hostName(entry.hostId);
  const claimId = claimIdOfEntry(entry.deviceId);
  return claimId === undefined ? deviceName(entry.hostId, entry.deviceId) : claimName(entry.hostId, claimId);
}

export function historyEntryMessage(entry: HistoryRecord, registry: Registry) {
  return {
    revision: String(entry.revision),
    time: timestamp(entry.time),
    resource: entryResourceName(entry),
    kind: `CHANGE_KIND_${entry.change}`,
    actor: entry.actor,
    on_behalf_of: entry.onBehalfOf ?? '',
    before: snapshotMessage(entry.before, registry),
    after: snapshotMessage(entry.after, registry),
    reason: entry.reason,
    index: entry.seq,
    hash: entry.hash ?? '',
  };
}

function valueMessage(value: Value | undefined) {
  return value ? valueToJson(value) : null;
}

function checkMessage(check: Check) {
  return {
    attribute: check.attribute,
    op: check.op,
    result: check.result,
    reason: check.reason,
    source_value: valueMessage(check.source),
    target_value: valueMessage(check.target),
  };
}

const ENGINE = { model: COMPAT_MODEL_VERSION, implementation: ENGINE_IMPLEMENTATION };

interface VerdictBody {
  verdict: string;
  checks: ReturnType<typeof checkMessage>[];
  required_settings: Record<string, ReturnType<typeof valueToJson>>;
  engine: typeof ENGINE;
}

/** What the transport keeps with a cached verdict: its message body and, once needed, its bytes. */
export interface VerdictMemo {
  readonly body: VerdictBody;
  bytes?: Buffer;
}

/** The revision-independent part of a result, converted once per cached verdict. */
export function verdictMemo(cached: CachedVerdict): VerdictMemo {
  if (cached.memo) return cached.memo as VerdictMemo;
  const { verdict } = cached;
  const memo: VerdictMemo = {
    body: {
      verdict: verdict.verdict,
      checks: verdict.checks.map(checkMessage),
      required_settings: Object.fromEntries([...verdict.requiredSettings].map(([name, value]) => [name, valueToJson(value)])),
      engine: ENGINE,
    },
  };
  cached.memo = memo;
  return memo;
}

export function resultMessage(cached: CachedVerdict, revision: number, source: string, target: string) {
  return { ...verdictMemo(cached).body, revision: String(revision), source, target };
}
