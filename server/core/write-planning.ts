// Write planning: what one SyncHost, DeleteHost or host-state change will do, computed against
// the live state before anything is written — the host and device records after it, the
// descriptors it introduces, and its history entries. A write that changes nothing gets no
// revision. Planning reads the live state and never changes it (it only allocates ids for
// new descriptors); the group commit turns a batch of plans into one store commit.
//
// May import: live-state.ts (reads), resources.ts, errors.ts, store.ts types.

import { DomainError, notFound } from './errors.ts';
import type { Capacity, Descriptor } from './model.ts';
import { labelsEqual, type SyncHostCommand } from './resources.ts';
import { deviceRecordOf } from './live-device.ts';
import type { DescriptorEntry, LiveDevice, LiveHost, LiveState, StateChange } from './live-state.ts';
import type { ClaimOp, ClaimPlan } from './claims-registry.ts';
import { budgetsEqual } from './budgets.ts';
import type { ChangeKind, CommitBatch, DeviceRecord, HistoryRecord, HostRecord, StoredDescriptor } from './store.ts';

/** Who made a write, and why (recorded in history and chained). */
export interface WriteOrigin {
  /** The authenticated identity (with TLS), the `x-devcompat-actor` metadata (without), or the server's own actor. */
  readonly actor: string;
  readonly reason: string;
  /** With TLS: the `x-devcompat-actor` the caller sent, recorded beside the actor ('' = none). */
  readonly onBehalfOf?: string;
}

export type WriteRequest =
  | { readonly kind: 'sync'; readonly command: SyncHostCommand; readonly origin: WriteOrigin }
  | { readonly kind: 'delete'; readonly hostId: string; readonly expectedRevision: number | undefined; readonly origin: WriteOrigin }
  | {
      readonly kind: 'state';
      readonly hostId: string;
      readonly reachable?: boolean;
      readonly draining?: boolean;
      /** When the change happened, if not now (a lease that lapsed while the server was down). */
      readonly time?: number;
      /**
       * A lapse: the lease due (LiveHost.leaseDue) found past. Dropped when the lease was
       * renewed beyond it meanwhile (a keepalive or sync answered while the lapse was queued).
       */
      readonly lapsedDue?: number;
      readonly origin: WriteOrigin;
    }
  /** A placement claim's create, renew, release or expiry, planned by claims-registry.ts. */
  | { readonly kind: 'claim'; readonly hostId: string; readonly op: ClaimOp; readonly origin: WriteOrigin };

/** What one write will do, computed before the batch is committed. */
export interface Plan<W extends WriteRequest = WriteRequest> extends StateChange {
  readonly write: W;
  readonly revision: number | undefined; // undefined: nothing changes
  readonly history: readonly HistoryRecord[];
  readonly created: number;
  readonly updated: number;
  /** What the write does to its host's claims (claim writes, and syncs that use claims up). */
  readonly claims?: ClaimPlan;
}

export function hostIdOf(write: WriteRequest): string {
  return write.kind === 'sync' ? write.command.hostId : write.hostId;
}

/**
 * Plans one write at `revision`, dated `time`. `newDescriptors` collects the descriptors the
 * batch introduces (shared by its writes); `committing` holds those the batch in flight
 * stores (by key): they are reused with their ids, and neither introduced again nor counted
 * as this batch's new ones.
 */
export function planWrite<W extends WriteRequest>(
  state: LiveState,
  write: W,
  revision: number,
  time: number,
  newDescriptors: Map<string, DescriptorEntry>,
  committing?: ReadonlyMap<string, DescriptorEntry>,
): Plan<W> {
  if (write.kind === 'sync') return planSync(state, write, revision, time, newDescriptors, committing) as Plan<W>;
  if (write.kind === 'delete') return planDelete(state, write, revision, time) as Plan<W>;
  return planState(state, write as Extract<WriteRequest, { kind: 'state' }>, revision, time) as Plan<W>;
}

function planSync(
  state: LiveState,
  write: Extract<WriteRequest, { kind: 'sync' }>,
  revision: number,
  now: number,
  newDescriptors: Map<string, DescriptorEntry>,
  committing: ReadonlyMap<string, DescriptorEntry> | undefined,
): Plan {
  const { command, origin } = write;
  const hostId = command.hostId;
  const existing = state.findHost(hostId);
  checkExpectedRevision(hostId, existing, command.expectedRevision);

  const upserts: { record: DeviceRecord; entry: DescriptorEntry }[] = [];
  const history: HistoryRecord[] = [];
  let created = 0;
  let updated = 0;
  // A sync renews the lease: an unreachable host becomes reachable again. New budgets are a
  // change of the host (its entry records them); the same budgets again are not.
  const hostChanged =
    !existing ||
    !labelsEqual(existing.record.labels, command.labels) ||
    !existing.record.reachable ||
    !budgetsEqual(existing.record.budgets ?? [], command.budgets);
  const entryFor = (descriptor: Descriptor): DescriptorEntry => {
    let entry = state.entryByKey(descriptor.key) ?? committing?.get(descriptor.key) ?? newDescriptors.get(descriptor.key);
    if (!entry) {
      entry = state.newDescriptorEntry(descriptor);
      newDescriptors.set(descriptor.key, entry);
    }
    return entry;
  };
  const deviceChanges: { change: ChangeKind; before?: DeviceRecord; after?: DeviceRecord }[] = [];
  for (const spec of command.devices) {
    const entry = entryFor(spec.descriptor);
    const before = existing?.devices.get(spec.deviceId);
    if (
      before &&
      before.entry === entry &&
      capacityEqual(before.record.capacity, spec.capacity) &&
      labelsEqual(before.record.labels, spec.labels)
    ) {
      continue;
    }
    const record: DeviceRecord = {
      hostId,
      deviceId: spec.deviceId,
      descriptorId: entry.id,
      capacity: state.internCapacity(spec.capacity),
      labels: state.intern(spec.labels),
      revision,
      createRevision: before?.record.createRevision ?? revision,
      createTime: before?.record.createTime ?? now,
      updateTime: now,
    };
    upserts.push({ record, entry });
    deviceChanges.push({ change: before ? 'UPDATED' : 'CREATED', before: before && deviceRecordOf(before.record), after: record });
    if (before) updated++;
    else created++;
  }
  const wanted = new Set(command.devices.map((spec) => spec.deviceId));
  const deletes = existing ? [...existing.devices.values()].filter((device) => !wanted.has(device.record.deviceId)) : [];
  for (const device of deletes) deviceChanges.push({ change: 'DELETED', before: deviceRecordOf(device.record) });

  if (!hostChanged && deviceChanges.length === 0) {
    const host = { ...existing!.record, lastSyncTime: now };
    return { write, hostId, revision: undefined, host, upserts: [], deletes: [], history: [], created: 0, updated: 0 };
  }
  const host: HostRecord = {
    hostId,
    labels: command.labels,
    revision,
    createRevision: existing?.record.createRevision ?? revision,
    createTime: existing?.record.createTime ?? now,
    updateTime: now,
    lastSyncTime: now,
    reachable: true,
    draining: existing?.record.draining ?? false,
    ...(command.budgets.length > 0 && { budgets: command.budgets }),
  };
  let seq = 0;
  const { actor, reason, onBehalfOf } = origin;
  const entry = (deviceId: string, change: ChangeKind, before: HistoryRecord['before'], after: HistoryRecord['after']) =>
    history.push({ revision, seq: seq++, time: now, hostId, deviceId, change, actor, onBehalfOf, reason, before, after });
  if (hostChanged) {
    entry('', existing ? 'UPDATED' : 'CREATED', existing && { kind: 'host', host: existing.record }, { kind: 'host', host });
  }
  for (const change of deviceChanges) {
    const record = (change.after ?? change.before)!;
    entry(
      record.deviceId,
      change.change,
      change.before && { kind: 'device', device: change.before },
      change.after && { kind: 'device', device: change.after },
    );
  }
  return { write, hostId, revision, host, upserts, deletes, history, created, updated };
}

function planDelete(state: LiveState, write: Extract<WriteRequest, { kind: 'delete' }>, revision: number, now: number): Plan {
  const { hostId, origin } = write;
  const existing = state.findHost(hostId);
  if (!existing) throw notFound(`hosts/${hostId}`);
  checkExpectedRevision(hostId, existing, write.expectedRevision);
  const deletes: LiveDevice[] = [...existing.devices.values()];
  const history: HistoryRecord[] = [];
  let seq = 0;
  const entry = (deviceId: string, before: HistoryRecord['before']) =>
    history.push({
      revision,
      seq: seq++,
      time: now,
      hostId,
      deviceId,
      change: 'DELETED',
      actor: origin.actor,
      onBehalfOf: origin.onBehalfOf,
      reason: origin.reason,
      before,
      after: undefined,
    });
  for (const device of deletes) entry(device.record.deviceId, { kind: 'device', device: deviceRecordOf(device.record) });
  entry('', { kind: 'host', host: existing.record });
  return { write, hostId, revision, host: undefined, upserts: [], deletes, history, created: 0, updated: 0 };
}

/** A host's reachability (its lease) or draining mark changes; its devices do not. */
function planState(
  state: LiveState,
  write: Extract<WriteRequest, { kind: 'state' }>,
  revision: number,
  time: number,
): Plan {
  const { hostId } = write;
  const existing = state.findHost(hostId);
  if (!existing) throw notFound(`hosts/${hostId}`);
  const reachable = write.reachable ?? existing.record.reachable;
  const draining = write.draining ?? existing.record.draining;
  // A lapse queued just before a keepalive or sync renewed the lease is dropped.
  const stale = write.lapsedDue !== undefined && existing.leaseDue > write.lapsedDue;
  const nothing = { write, hostId, upserts: [], deletes: [], created: 0, updated: 0 };
  if (stale || (reachable === existing.record.reachable && draining === existing.record.draining)) {
    return { ...nothing, revision: undefined, host: existing.record, history: [] };
  }
  const host: HostRecord = { ...existing.record, reachable, draining, revision, updateTime: time };
  const history: HistoryRecord[] = [
    {
      revision,
      seq: 0,
      time,
      hostId,
      deviceId: '',
      change: 'UPDATED',
      actor: write.origin.actor,
      onBehalfOf: write.origin.onBehalfOf,
      reason: write.origin.reason,
      before: { kind: 'host', host: existing.record },
      after: { kind: 'host', host },
    },
  ];
  return { ...nothing, revision, host, history };
}

/** Everything a batch of plans writes, as one store commit. */
export function commitBatchOf(plans: readonly Plan[], newDescriptors: ReadonlyMap<string, DescriptorEntry>): CommitBatch {
  const changing = plans.filter((plan) => plan.revision !== undefined);
  const used = usedDescriptors(plans, newDescriptors);
  const stored: StoredDescriptor[] = used.map((entry) => ({ id: entry.id, key: entry.descriptor.key }));
  return {
    newDescriptors: stored,
    hostUpserts: changing.flatMap((plan) => (plan.host ? [plan.host] : [])),
    hostDeletes: changing.filter((plan) => !plan.host).map((plan) => plan.hostId),
    deviceUpserts: changing.flatMap((plan) => plan.upserts.map((upsert) => upsert.record)),
    deviceDeletes: changing.flatMap((plan) =>
      plan.deletes.map((device) => ({ hostId: device.record.hostId, deviceId: device.record.deviceId })),
    ),
    history: changing.flatMap((plan) => plan.history),
    syncTouches: plans
      .filter((plan) => plan.revision === undefined && plan.host && plan.write.kind === 'sync')
      .map((plan) => ({ hostId: plan.host!.hostId, lastSyncTime: plan.host!.lastSyncTime })),
    leases: [],
    claimUpserts: changing.flatMap((plan) => plan.claims?.upserts ?? []),
    claimDeletes: changing.flatMap((plan) => plan.claims?.deletes ?? []),
  };
}

/** The batch's new descriptors that a changing write uses (a refused or unchanged write's are dropped). */
export function usedDescriptors(plans: readonly Plan[], newDescriptors: ReadonlyMap<string, DescriptorEntry>): DescriptorEntry[] {
  const used = new Set<DescriptorEntry>();
  for (const plan of plans) if (plan.revision !== undefined) for (const { entry } of plan.upserts) used.add(entry);
  return [...newDescriptors.values()].filter((entry) => used.has(entry));
}

export const EMPTY_BATCH: CommitBatch = {
  newDescriptors: [],
  hostUpserts: [],
  hostDeletes: [],
  deviceUpserts: [],
  deviceDeletes: [],
  history: [],
  syncTouches: [],
  leases: [],
};

function capacityEqual(a: Capacity | undefined, b: Capacity | undefined): boolean {
  if (!a || !b) return a === b;
  return a.total === b.total && a.available === b.available;
}

function checkExpectedRevision(hostId: string, host: LiveHost | undefined, expected: number | undefined): void {
  if (expected === undefined) return;
  const current = host?.record.revision ?? 0;
  if (current !== expected) {
    throw new DomainError(
      'REVISION_MISMATCH',
      `hosts/${hostId} is at revision ${current}, not the expected ${expected}: re-read it and retry`,
      { metadata: { resource: `hosts/${hostId}`, current_revision: String(current), expected_revision: String(expected) } },
    );
  }
}
