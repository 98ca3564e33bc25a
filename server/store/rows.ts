// Records as rows, for every SQL store: the column names and meanings are the same in SQLite
// and PostgreSQL (migrations/ and migrations/postgres/), so one mapping serves both. What
// differs stays in each adapter: how booleans are written (SQLite 0/1) and how a hash is held
// (SQLite BLOB, PostgreSQL hex text), which arrive here already as a boolean-ish and hex.

import type { Capacity } from '../core/model.ts';
import type { Labels } from '../core/resources.ts';
import type { ClaimRecord, DeviceRecord, HistoryRecord, HostRecord } from '../core/store.ts';
import { decodeBudgets, decodeSnapshot, encodeBudgets, type BudgetJson } from './history-encoding.ts';

export interface HostRowBase {
  host_id: string;
  labels: string;
  revision: number;
  create_revision: number;
  create_time_ms: number;
  update_time_ms: number;
  last_sync_time_ms: number;
  /** SQLite: 0/1; PostgreSQL: boolean. */
  reachable: number | boolean;
  draining: number | boolean;
  /** JSON (history-encoding.ts `encodeBudgets`); null when the host has none (SQLite 0005, PostgreSQL 0002). */
  budgets: string | null;
}

export interface DeviceRow {
  host_id: string;
  device_id: string;
  descriptor_id: number;
  capacity_total: number | null;
  capacity_available: number | null;
  labels: string;
  revision: number;
  create_revision: number;
  create_time_ms: number;
  update_time_ms: number;
}

export interface ClaimRow {
  host_id: string;
  claim_id: string;
  devices: string;
  ttl_ms: number;
  create_time_ms: number;
  expire_time_ms: number;
  fingerprint: string;
  /** Who created it (migration 0008); '' for claims stored before claims had owners. */
  owner: string;
  create_revision: number;
  revision: number;
}

/** The history columns every store reads back (the hash comes separately, as hex). */
export interface HistoryRowBase {
  revision: number;
  seq: number;
  time_ms: number;
  host_id: string;
  device_id: string;
  change: 'CREATED' | 'UPDATED' | 'DELETED';
  actor: string;
  reason: string;
  before: string | null;
  after: string | null;
  on_behalf_of: string;
}

export function hostFromRow(row: HostRowBase): HostRecord {
  return hostFromParsedRow({ ...row, labels: JSON.parse(row.labels), budgets: row.budgets === null ? null : JSON.parse(row.budgets) });
}

/** A host's row with its labels and budgets already parsed from their JSON (SQLite's load gets them so: sqlite-host-load.ts). */
export type ParsedHostRow = Omit<HostRowBase, 'labels' | 'budgets'> & { labels: Labels; budgets: BudgetJson[] | null };

export function hostFromParsedRow(row: ParsedHostRow): HostRecord {
  return {
    hostId: row.host_id,
    labels: row.labels,
    revision: row.revision,
    createRevision: row.create_revision,
    createTime: row.create_time_ms,
    updateTime: row.update_time_ms,
    lastSyncTime: row.last_sync_time_ms,
    reachable: Boolean(row.reachable),
    draining: Boolean(row.draining),
    ...(row.budgets !== null && { budgets: decodeBudgets(row.budgets) }),
  };
}

/** A host's row with its flags as booleans (the SQLite adapter writes them as 0/1). */
export function hostToRow(host: HostRecord): HostRowBase & { reachable: boolean; draining: boolean } {
  return {
    host_id: host.hostId,
    labels: JSON.stringify(host.labels),
    revision: host.revision,
    create_revision: host.createRevision,
    create_time_ms: host.createTime,
    update_time_ms: host.updateTime,
    last_sync_time_ms: host.lastSyncTime,
    reachable: host.reachable,
    draining: host.draining,
    budgets: host.budgets?.length ? JSON.stringify(encodeBudgets(host.budgets)) : null,
  };
}

export function deviceFromRow(row: DeviceRow): DeviceRecord {
  return {
    hostId: row.host_id,
    deviceId: row.device_id,
    descriptorId: row.descriptor_id,
    capacity: row.capacity_total === null ? undefined : { total: row.capacity_total, available: row.capacity_available ?? 0 },
    labels: JSON.parse(row.labels),
    revision: row.revision,
    createRevision: row.create_revision,
    createTime: row.create_time_ms,
    updateTime: row.update_time_ms,
  };
}

/**
 * deviceFromRow for a whole load: equal label texts and capacities give one shared object.
 * A fleet's 160,000 devices have a few distinct label sets and capacities, so this saves a
 * JSON.parse per device, and the structured clone to the main thread (which keeps shared
 * references shared) carries each once.
 */
export function sharingDeviceFromRow(): (row: DeviceRow) => DeviceRecord {
  const labels = new Map<string, Labels>();
  const capacities = new Map<string, Capacity>();
  return (row) => {
    let rowLabels = labels.get(row.labels);
    if (!rowLabels) {
      rowLabels = JSON.parse(row.labels) as Labels;
      labels.set(row.labels, rowLabels);
    }
    let capacity: Capacity | undefined;
    if (row.capacity_total !== null) {
      const key = `${row.capacity_total}/${row.capacity_available ?? 0}`;
      capacity = capacities.get(key);
      if (!capacity) {
        capacity = { total: row.capacity_total, available: row.capacity_available ?? 0 };
        capacities.set(key, capacity);
      }
    }
    return {
      hostId: row.host_id,
      deviceId: row.device_id,
      descriptorId: row.descriptor_id,
      capacity,
      labels: rowLabels,
      revision: row.revision,
      createRevision: row.create_revision,
      createTime: row.create_time_ms,
      updateTime: row.update_time_ms,
    };
  };
}

export function deviceToRow(device: DeviceRecord): DeviceRow {
  return {
    host_id: device.hostId,
    device_id: device.deviceId,
    descriptor_id: device.descriptorId,
    capacity_total: device.capacity?.total ?? null,
    capacity_available: device.capacity?.available ?? null,
    labels: JSON.stringify(device.labels),
    revision: device.revision,
    create_revision: device.createRevision,
    create_time_ms: device.createTime,
    update_time_ms: device.updateTime,
  };
}

/** A live claim's row (only ACTIVE claims are rows). */
export function claimFromRow(row: ClaimRow): ClaimRecord {
  return {
    hostId: row.host_id,
    claimId: row.claim_id,
    devices: (JSON.parse(row.devices) as [string, number, number][]).map(([deviceId, count, remaining]) => ({ deviceId, count, remaining })),
    state: 'CLAIM_STATE_ACTIVE',
    ttlMs: row.ttl_ms,
    createTimeMs: row.create_time_ms,
    expireTimeMs: row.expire_time_ms,
    fingerprint: row.fingerprint,
    owner: row.owner,
    createRevision: row.create_revision,
    revision: row.revision,
  };
}

export function claimToRow(claim: ClaimRecord): ClaimRow {
  return {
    host_id: claim.hostId,
    claim_id: claim.claimId,
    devices: JSON.stringify(claim.devices.map((d) => [d.deviceId, d.count, d.remaining])),
    ttl_ms: claim.ttlMs,
    create_time_ms: claim.createTimeMs,
    expire_time_ms: claim.expireTimeMs,
    fingerprint: claim.fingerprint,
    owner: claim.owner,
    create_revision: claim.createRevision,
    revision: claim.revision,
  };
}

export function historyFromRow(row: HistoryRowBase, hash: string | undefined): HistoryRecord {
  return {
    revision: row.revision,
    seq: row.seq,
    time: row.time_ms,
    hostId: row.host_id,
    deviceId: row.device_id,
    change: row.change,
    actor: row.actor,
    ...(row.on_behalf_of && { onBehalfOf: row.on_behalf_of }),
    reason: row.reason,
    before: decodeSnapshot(row.before, row.host_id, row.device_id),
    after: decodeSnapshot(row.after, row.host_id, row.device_id),
    hash,
  };
}
