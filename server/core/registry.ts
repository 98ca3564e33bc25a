// The registry: the current state of every host and device, held in memory and mirrored
// durably in the store. Reads of the current state (gets, lists, checks, FindTargets) are
// served from memory and its indexes; history is read from the store. Writes go through a
// group commit: every SyncHost/DeleteHost that arrives while the previous batch is being
// written is planned against the state that batch leaves, written in one transaction with
// one fsync, and only then applied to memory and acknowledged.
//
// Descriptors are interned by their canonical key. Real fleets are repetitive (hosts of one
// class share drivers and firmware), so FindTargets evaluates each distinct candidate
// descriptor once and ranks devices by the cached verdict: its cost grows with the number of
// candidates and distinct descriptors, never with the size of the registry.

import { DomainError, notFound } from './errors.ts';
import type { Capacity, Descriptor, Verdict } from './model.ts';
import { evaluate } from './engine.ts';
import { compareRankKeys, rankKey, type RankKey } from './rank.ts';
import { deviceName, labelsEqual, labelsMatch, type Labels, type SyncHostCommand } from './resources.ts';
import type {
  ChangeKind,
  CommitBatch,
  DeviceRecord,
  HistoryQuery,
  HistoryRecord,
  HostRecord,
  LoadedState,
  RegistryStore,
  StoredDescriptor,
} from './store.ts';
import { selectBest } from './top-k.ts';
import { compareIds, LabelIndex, pageOf, SortedIds } from './listing.ts';
import { validateDescriptor } from './validate.ts';

export interface DescriptorEntry {
  readonly id: number;
  readonly descriptor: Descriptor;
  /** The live devices that have this descriptor. */
  readonly devices: Set<LiveDevice>;
}

/** A device as it is now. Immutable: a change replaces the object, so a reader that holds
 * one (a FindTargets stream) keeps a consistent view while writes go on. */
export interface LiveDevice {
  readonly record: DeviceRecord;
  readonly name: string;
  readonly entry: DescriptorEntry;
  readonly host: LiveHost;
}

export interface LiveHost {
  record: HostRecord;
  readonly devices: Map<string, LiveDevice>;
}

/** A verdict computed once per (source descriptor, target descriptor) pair. */
export interface CachedVerdict {
  readonly verdict: Verdict;
  readonly rank: RankKey;
  /** A slot for the transport layer to memoize its encoding of the verdict. */
  memo?: unknown;
}

export interface ResolvedDevice {
  readonly descriptor: Descriptor;
  /** Set when the device is registered. */
  readonly device?: LiveDevice;
}

export interface SyncResult {
  readonly revision: number;
  readonly host: LiveHost;
  readonly changed: boolean;
  readonly created: number;
  readonly updated: number;
  readonly deleted: number;
}

export interface DeleteResult {
  readonly revision: number;
  readonly devicesDeleted: number;
}

export interface FindOptions {
  readonly excludeHosts: ReadonlySet<string>;
  readonly hostLabels: Labels;
  readonly requireAvailable: boolean;
  readonly limit: number;
  readonly includeRejected: boolean;
  readonly rejectedLimit: number;
  readonly includeSourceHost: boolean;
}

export interface DeviceListQuery {
  /** Undefined: any descriptor; otherwise only devices with one of these descriptors. */
  readonly descriptorIds: ReadonlySet<number> | undefined;
  readonly hostId: string | undefined;
  readonly labels: Labels;
  readonly hostLabels: Labels;
  /** Exclusive cursor: the last device of the previous page. */
  readonly after: { readonly hostId: string; readonly deviceId: string } | undefined;
  readonly limit: number;
}

export interface HostListQuery {
  readonly labels: Labels;
  readonly afterHostId: string | undefined;
  readonly limit: number;
}

export interface FoundTarget {
  readonly device: LiveDevice;
  readonly cached: CachedVerdict;
  /** 1-based among compatible targets; 0 for a rejected candidate. */
  readonly rank: number;
}

export interface FindResult {
  readonly revision: number;
  readonly candidates: number;
  readonly compatible: number;
  readonly rejected: number;
  readonly distinctDescriptors: number;
  readonly targets: readonly FoundTarget[];
  readonly rejectedTargets: readonly FoundTarget[];
}

type PendingWrite =
  | { readonly kind: 'sync'; readonly command: SyncHostCommand; readonly actor: string; settle: Settle<SyncResult> }
  | {
      readonly kind: 'delete';
      readonly hostId: string;
      readonly expectedRevision: number | undefined;
      readonly actor: string;
      settle: Settle<DeleteResult>;
    };

interface Settle<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** What one write will do, computed before the batch is committed. */
interface Plan {
  readonly write: PendingWrite;
  readonly revision: number | undefined; // undefined: nothing changes
  readonly host: HostRecord | undefined; // the host after; undefined when deleted
  readonly upserts: readonly { record: DeviceRecord; entry: DescriptorEntry }[];
  readonly deletes: readonly LiveDevice[];
  readonly history: readonly HistoryRecord[];
  readonly created: number;
  readonly updated: number;
}

/**
 * Cached verdicts, with their encoded form, take a few KB each: 50,000 bounds the cache to
 * about 150 MB on a registry of many distinct descriptors. A fleet like the benchmark's needs
 * a few thousand (pairs of distinct descriptors that share a type).
 */
const VERDICT_CACHE_LIMIT = 50_000;
const INTERN_LIMIT = 100_000;

export class Registry {
  private revisionValue = 0;
  /** Commit time of the latest revision: revision times never go backwards, even if the
   * wall clock does, so that a time range is always a revision range. */
  private revisionTime = 0;
  private readonly hosts = new Map<string, LiveHost>();
  private readonly descriptorsByKey = new Map<string, DescriptorEntry>();
  private readonly descriptorsById = new Map<number, DescriptorEntry>();
  /** vendor \0 device_api \0 type -> descriptors of that type. */
  private readonly byType = new Map<string, Set<DescriptorEntry>>();
  /** vendor \0 device_api \0 type -> descriptors that list the type in compatible_types. */
  private readonly byCompatibleType = new Map<string, Set<DescriptorEntry>>();
  private readonly hostOrder = new SortedIds();
  private readonly hostLabels = new LabelIndex<LiveHost>();
  private readonly deviceLabels = new LabelIndex<LiveDevice>();
  private nextDescriptorId = 1;
  private deviceCount = 0;
  private readonly verdicts = new Map<string, Map<string, CachedVerdict>>();
  /** Equal label sets and capacities are shared: fleets repeat them on every host. */
  private readonly internedLabels = new Map<string, Labels>();
  private readonly internedCapacities = new Map<string, Capacity>();
  private verdictCount = 0;
  private pending: PendingWrite[] = [];
  private flushScheduled = false;
  /** The batch being committed; the next one gathers meanwhile. */
  private committing: Promise<void> | undefined;
  private closed = false;

  /** Loads the registry's state from the store. */
  static async open(store: RegistryStore, clock: () => number = Date.now): Promise<Registry> {
    return new Registry(store, clock, await store.load());
  }

  private constructor(
    private readonly store: RegistryStore,
    private readonly clock: () => number,
    state: LoadedState,
  ) {
    this.revisionValue = state.revision;
    this.revisionTime = state.revisionTime;
    for (const stored of state.descriptors) {
      const descriptor = validateDescriptor(JSON.parse(stored.key));
      this.addDescriptor({ id: stored.id, descriptor, devices: new Set() });
      this.nextDescriptorId = Math.max(this.nextDescriptorId, stored.id + 1);
    }
    for (const record of state.hosts) this.addHost({ record, devices: new Map() });
    for (const record of state.devices) {
      const host = this.hosts.get(record.hostId);
      const entry = this.descriptorsById.get(record.descriptorId);
      if (!host || !entry) throw new Error(`device ${record.hostId}/${record.deviceId} refers to a missing host or descriptor`);
      this.putDevice(host, { ...record, labels: this.intern(record.labels), capacity: this.internCapacity(record.capacity) }, entry);
    }
  }

  get revision(): number {
    return this.revisionValue;
  }

  get stats(): { hosts: number; devices: number; descriptors: number; cachedVerdicts: number } {
    return {
      hosts: this.hosts.size,
      devices: this.deviceCount,
      descriptors: this.descriptorsByKey.size,
      cachedVerdicts: this.verdictCount,
    };
  }

  // -------------------------------------------------------------------------------------
  // Writes

  syncHost(command: SyncHostCommand, actor: string): Promise<SyncResult> {
    return new Promise((resolve, reject) => {
      this.enqueue({ kind: 'sync', command, actor, settle: { resolve, reject } });
    });
  }

  deleteHost(hostId: string, expectedRevision: number | undefined, actor: string): Promise<DeleteResult> {
    return new Promise((resolve, reject) => {
      this.enqueue({ kind: 'delete', hostId, expectedRevision, actor, settle: { resolve, reject } });
    });
  }

  /** Writes that are already queued are committed; new ones are refused. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.committing || this.pending.length > 0) {
      if (this.committing) await this.committing;
      else this.flush();
    }
  }

  private enqueue(write: PendingWrite): void {
    if (this.closed) {
      write.settle.reject(new DomainError('UNAVAILABLE', 'the registry is shutting down'));
      return;
    }
    this.pending.push(write);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.committing) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /**
   * Plans every queued write against the current state and commits them as one batch. One
   * batch is in flight at a time: writes that arrive meanwhile wait for the next, so batches
   * grow with the load, and each plan sees every earlier write applied.
   */
  private flush(): void {
    this.flushScheduled = false;
    if (this.committing) return;
    const writes = this.pending;
    this.pending = [];
    const plans: Plan[] = [];
    const deferred: PendingWrite[] = [];
    const hostsInBatch = new Set<string>();
    const newDescriptors = new Map<string, DescriptorEntry>();
    let revision = this.revisionValue;
    const now = Math.max(this.clock(), this.revisionTime);
    for (const write of writes) {
      const hostId = write.kind === 'sync' ? write.command.hostId : write.hostId;
      // Each write is planned against the state before the batch, so one host is written
      // at most once per batch; a second write to it waits for the next batch.
      if (hostsInBatch.has(hostId)) {
        deferred.push(write);
        continue;
      }
      try {
        const plan =
          write.kind === 'sync'
            ? this.planSync(write, revision + 1, now, newDescriptors)
            : this.planDelete(write, revision + 1, now);
        if (plan.revision !== undefined) revision = plan.revision;
        hostsInBatch.add(hostId);
        plans.push(plan);
      } catch (error) {
        write.settle.reject(error);
      }
    }
    this.pending.unshift(...deferred);
    if (plans.length > 0) {
      this.committing = this.commitPlans(plans, newDescriptors, revision).finally(() => {
        this.committing = undefined;
        if (this.pending.length > 0) this.scheduleFlush();
      });
    } else if (this.pending.length > 0) {
      this.scheduleFlush();
    }
  }

  private async commitPlans(plans: Plan[], newDescriptors: Map<string, DescriptorEntry>, revision: number): Promise<void> {
    const changing = plans.filter((plan) => plan.revision !== undefined);
    const usedDescriptors = new Set<DescriptorEntry>();
    for (const plan of changing) for (const { entry } of plan.upserts) usedDescriptors.add(entry);
    const stored: StoredDescriptor[] = [...newDescriptors.values()]
      .filter((entry) => usedDescriptors.has(entry))
      .map((entry) => ({ id: entry.id, key: entry.descriptor.key }));
    const batch: CommitBatch = {
      newDescriptors: stored,
      hostUpserts: changing.flatMap((plan) => (plan.host ? [plan.host] : [])),
      hostDeletes: changing.filter((plan) => !plan.host).map((plan) => hostIdOf(plan.write)),
      deviceUpserts: changing.flatMap((plan) => plan.upserts.map((upsert) => upsert.record)),
      deviceDeletes: changing.flatMap((plan) =>
        plan.deletes.map((device) => ({ hostId: device.record.hostId, deviceId: device.record.deviceId })),
      ),
      history: changing.flatMap((plan) => plan.history),
      syncTouches: plans
        .filter((plan) => plan.revision === undefined && plan.host)
        .map((plan) => ({ hostId: plan.host!.hostId, lastSyncTime: plan.host!.lastSyncTime })),
    };
    try {
      await this.store.commit(batch);
    } catch (error) {
      for (const plan of plans) plan.write.settle.reject(error);
      return;
    }
    for (const entry of newDescriptors.values()) if (usedDescriptors.has(entry)) this.addDescriptor(entry);
    for (const plan of plans) this.applyPlan(plan);
    if (changing.length > 0) this.revisionTime = changing[0].history[0].time;
    this.revisionValue = revision;
    for (const plan of plans) this.acknowledge(plan);
  }

  private planSync(
    write: Extract<PendingWrite, { kind: 'sync' }>,
    revision: number,
    now: number,
    newDescriptors: Map<string, DescriptorEntry>,
  ): Plan {
    const { command, actor } = write;
    const existing = this.hosts.get(command.hostId);
    checkExpectedRevision(command.hostId, existing, command.expectedRevision);

    const upserts: { record: DeviceRecord; entry: DescriptorEntry }[] = [];
    const history: HistoryRecord[] = [];
    let created = 0;
    let updated = 0;
    const hostChanged = !existing || !labelsEqual(existing.record.labels, command.labels);
    const entryFor = (descriptor: Descriptor): DescriptorEntry => {
      let entry = this.descriptorsByKey.get(descriptor.key) ?? newDescriptors.get(descriptor.key);
      if (!entry) {
        entry = { id: this.nextDescriptorId++, descriptor, devices: new Set() };
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
        hostId: command.hostId,
        deviceId: spec.deviceId,
        descriptorId: entry.id,
        capacity: this.internCapacity(spec.capacity),
        labels: this.intern(spec.labels),
        revision,
        createRevision: before?.record.createRevision ?? revision,
        createTime: before?.record.createTime ?? now,
        updateTime: now,
      };
      upserts.push({ record, entry });
      deviceChanges.push({ change: before ? 'UPDATED' : 'CREATED', before: before?.record, after: record });
      if (before) updated++;
      else created++;
    }
    const wanted = new Set(command.devices.map((spec) => spec.deviceId));
    const deletes = existing ? [...existing.devices.values()].filter((device) => !wanted.has(device.record.deviceId)) : [];
    for (const device of deletes) deviceChanges.push({ change: 'DELETED', before: device.record });

    if (!hostChanged && deviceChanges.length === 0) {
      return {
        write,
        revision: undefined,
        host: { ...existing!.record, lastSyncTime: now },
        upserts: [],
        deletes: [],
        history: [],
        created: 0,
        updated: 0,
      };
    }
    const host: HostRecord = {
      hostId: command.hostId,
      labels: command.labels,
      revision,
      createRevision: existing?.record.createRevision ?? revision,
      createTime: existing?.record.createTime ?? now,
      updateTime: now,
      lastSyncTime: now,
    };
    let seq = 0;
    const entry = (hostId: string, deviceId: string, change: ChangeKind, before: HistoryRecord['before'], after: HistoryRecord['after']) =>
      history.push({ revision, seq: seq++, time: now, hostId, deviceId, change, actor, before, after });
    if (hostChanged) {
      entry(command.hostId, '', existing ? 'UPDATED' : 'CREATED', existing && { kind: 'host', host: existing.record }, {
        kind: 'host',
        host,
      });
    }
    for (const change of deviceChanges) {
      const record = (change.after ?? change.before)!;
      entry(
        command.hostId,
        record.deviceId,
        change.change,
        change.before && { kind: 'device', device: change.before },
        change.after && { kind: 'device', device: change.after },
      );
    }
    return { write, revision, host, upserts, deletes, history, created, updated };
  }

  private planDelete(write: Extract<PendingWrite, { kind: 'delete' }>, revision: number, now: number): Plan {
    const existing = this.hosts.get(write.hostId);
    if (!existing) throw notFound(`hosts/${write.hostId}`);
    checkExpectedRevision(write.hostId, existing, write.expectedRevision);
    const deletes = [...existing.devices.values()];
    const history: HistoryRecord[] = [];
    let seq = 0;
    for (const device of deletes) {
      history.push({
        revision,
        seq: seq++,
        time: now,
        hostId: write.hostId,
        deviceId: device.record.deviceId,
        change: 'DELETED',
        actor: write.actor,
        before: { kind: 'device', device: device.record },
        after: undefined,
      });
    }
    history.push({
      revision,
      seq: seq++,
      time: now,
      hostId: write.hostId,
      deviceId: '',
      change: 'DELETED',
      actor: write.actor,
      before: { kind: 'host', host: existing.record },
      after: undefined,
    });
    return { write, revision, host: undefined, upserts: [], deletes, history, created: 0, updated: 0 };
  }

  private applyPlan(plan: Plan): void {
    const hostId = hostIdOf(plan.write);
    if (!plan.host) {
      const host = this.hosts.get(hostId);
      if (host) {
        for (const device of [...host.devices.values()]) this.removeDevice(device);
        this.hostLabels.remove(host.record.labels, host);
        this.hostOrder.remove(hostId);
      }
      this.hosts.delete(hostId);
      return;
    }
    let host = this.hosts.get(hostId);
    if (!host) {
      host = { record: plan.host, devices: new Map() };
      this.addHost(host);
    } else {
      if (!labelsEqual(host.record.labels, plan.host.labels)) {
        this.hostLabels.remove(host.record.labels, host);
        this.hostLabels.add(plan.host.labels, host);
      }
      host.record = plan.host;
    }
    for (const device of plan.deletes) this.removeDevice(device);
    for (const { record, entry } of plan.upserts) {
      const before = host.devices.get(record.deviceId);
      if (before) this.removeDevice(before);
      this.putDevice(host, record, entry);
    }
  }

  private acknowledge(plan: Plan): void {
    const write = plan.write;
    if (write.kind === 'delete') {
      write.settle.resolve({ revision: plan.revision!, devicesDeleted: plan.deletes.length });
      return;
    }
    write.settle.resolve({
      revision: plan.revision ?? this.revisionValue,
      host: this.hosts.get(write.command.hostId)!,
      changed: plan.revision !== undefined,
      created: plan.created,
      updated: plan.updated,
      deleted: plan.deletes.length,
    });
  }

  private intern(labels: Labels): Labels {
    const key = JSON.stringify(labels);
    const shared = this.internedLabels.get(key);
    if (shared) return shared;
    if (this.internedLabels.size >= INTERN_LIMIT) this.internedLabels.clear();
    this.internedLabels.set(key, labels);
    return labels;
  }

  private internCapacity(capacity: Capacity | undefined): Capacity | undefined {
    if (!capacity) return undefined;
    const key = `${capacity.total}/${capacity.available}`;
    const shared = this.internedCapacities.get(key);
    if (shared) return shared;
    if (this.internedCapacities.size >= INTERN_LIMIT) this.internedCapacities.clear();
    this.internedCapacities.set(key, capacity);
    return capacity;
  }

  private addHost(host: LiveHost): void {
    this.hosts.set(host.record.hostId, host);
    this.hostOrder.insert(host.record.hostId);
    this.hostLabels.add(host.record.labels, host);
  }

  private putDevice(host: LiveHost, record: DeviceRecord, entry: DescriptorEntry): void {
    const device: LiveDevice = { record, name: deviceName(record.hostId, record.deviceId), entry, host };
    host.devices.set(record.deviceId, device);
    entry.devices.add(device);
    this.deviceLabels.add(record.labels, device);
    this.deviceCount++;
  }

  private removeDevice(device: LiveDevice): void {
    device.host.devices.delete(device.record.deviceId);
    device.entry.devices.delete(device);
    this.deviceLabels.remove(device.record.labels, device);
    this.deviceCount--;
  }

  private addDescriptor(entry: DescriptorEntry): void {
    this.descriptorsByKey.set(entry.descriptor.key, entry);
    this.descriptorsById.set(entry.id, entry);
    const { vendor, deviceApi, type, compatibleTypes } = entry.descriptor;
    addToIndex(this.byType, typeKey(vendor, deviceApi, type), entry);
    for (const compatible of compatibleTypes) addToIndex(this.byCompatibleType, typeKey(vendor, deviceApi, compatible), entry);
  }

  // -------------------------------------------------------------------------------------
  // Reads

  getHost(hostId: string): LiveHost {
    const host = this.hosts.get(hostId);
    if (!host) throw notFound(`hosts/${hostId}`);
    return host;
  }

  getDevice(hostId: string, deviceId: string): LiveDevice {
    const device = this.hosts.get(hostId)?.devices.get(deviceId);
    if (!device) throw notFound(deviceName(hostId, deviceId));
    return device;
  }

  descriptorById(id: number): Descriptor {
    const entry = this.descriptorsById.get(id);
    if (!entry) throw new Error(`descriptor ${id} is not known`);
    return entry.descriptor;
  }

  /** Descriptor ids matching a filter: a scan of the distinct descriptors, not of devices. */
  matchingDescriptorIds(filter: {
    vendor: string;
    deviceApi: string;
    type: string;
    versionMatches: ((descriptor: Descriptor) => boolean) | undefined;
  }): Set<number> | undefined {
    if (!filter.vendor && !filter.deviceApi && !filter.type && !filter.versionMatches) return undefined;
    const source =
      filter.vendor && filter.deviceApi && filter.type
        ? this.byType.get(typeKey(filter.vendor, filter.deviceApi, filter.type)) ?? []
        : this.descriptorsById.values();
    const ids = new Set<number>();
    for (const entry of source) {
      const d = entry.descriptor;
      if (filter.vendor && d.vendor !== filter.vendor) continue;
      if (filter.deviceApi && d.deviceApi !== filter.deviceApi) continue;
      if (filter.type && d.type !== filter.type) continue;
      if (filter.versionMatches && !filter.versionMatches(d)) continue;
      ids.add(entry.id);
    }
    return ids;
  }

  /** Hosts in id order after the cursor, filtered by labels, from the in-memory indexes. */
  listHosts(query: HostListQuery): LiveHost[] {
    const keep = (host: LiveHost) => labelsMatch(host.record.labels, query.labels);
    const selectors = Object.entries(query.labels).map(([key, value]) => this.hostLabels.get(key, value));
    if (selectors.length === 0) {
      const page: LiveHost[] = [];
      for (const hostId of this.hostOrder.from(query.afterHostId)) {
        if (page.length >= query.limit) break;
        page.push(this.hosts.get(hostId)!);
      }
      return page;
    }
    const smallest = selectors.reduce((a, b) => (b.size < a.size ? b : a));
    const after = query.afterHostId;
    return pageOf(
      smallest,
      keep,
      (host) => after === undefined || host.record.hostId > after,
      (a, b) => compareIds(a.record.hostId, b.record.hostId),
      query.limit,
    );
  }

  /**
   * Devices in (host id, device id) order after the cursor. The candidates are the smallest
   * of the sets the filters select through an index (the host's devices, the descriptors'
   * devices, a label's devices); the other filters are checked on them. Without a filter,
   * hosts are walked in order from the cursor.
   */
  listDevices(query: DeviceListQuery): LiveDevice[] {
    const { after } = query;
    const keep = (device: LiveDevice) =>
      (query.hostId === undefined || device.record.hostId === query.hostId) &&
      (query.descriptorIds === undefined || query.descriptorIds.has(device.entry.id)) &&
      labelsMatch(device.record.labels, query.labels) &&
      labelsMatch(device.host.record.labels, query.hostLabels);
    const isAfter = (device: LiveDevice) =>
      after === undefined ||
      device.record.hostId > after.hostId ||
      (device.record.hostId === after.hostId && device.record.deviceId > after.deviceId);

    const sources: { size: number; devices: () => Iterable<LiveDevice> }[] = [];
    if (query.hostId !== undefined) {
      const host = this.hosts.get(query.hostId);
      if (!host) return [];
      sources.push({ size: host.devices.size, devices: () => host.devices.values() });
    }
    if (query.descriptorIds !== undefined) {
      const entries = [...query.descriptorIds].flatMap((id) => this.descriptorsById.get(id) ?? []);
      sources.push({ size: entries.reduce((sum, entry) => sum + entry.devices.size, 0), devices: () => devicesOf(entries) });
    }
    for (const [key, value] of Object.entries(query.labels)) {
      const devices = this.deviceLabels.get(key, value);
      sources.push({ size: devices.size, devices: () => devices });
    }
    for (const [key, value] of Object.entries(query.hostLabels)) {
      const hosts = [...this.hostLabels.get(key, value)];
      sources.push({
        size: hosts.reduce((sum, host) => sum + host.devices.size, 0),
        devices: () => devicesOf(hosts),
      });
    }
    if (sources.length === 0) {
      const page: LiveDevice[] = [];
      const hostOrder = this.hostOrder;
      function* hostIds() {
        if (after !== undefined) yield after.hostId; // the cursor's own host may have devices left
        yield* hostOrder.from(after?.hostId);
      }
      for (const hostId of hostIds()) {
        const host = this.hosts.get(hostId);
        if (!host) continue;
        for (const deviceId of [...host.devices.keys()].sort(compareIds)) {
          const device = host.devices.get(deviceId)!;
          if (!isAfter(device)) continue;
          if (page.length >= query.limit) return page;
          page.push(device);
        }
      }
      return page;
    }
    const smallest = sources.reduce((a, b) => (b.size < a.size ? b : a));
    return pageOf(
      smallest.devices(),
      keep,
      isAfter,
      (a, b) => compareIds(a.record.hostId, b.record.hostId) || compareIds(a.record.deviceId, b.record.deviceId),
      query.limit,
    );
  }

  listHistory(query: HistoryQuery): Promise<HistoryRecord[]> {
    return this.store.listHistory(query);
  }

  // -------------------------------------------------------------------------------------
  // Compatibility

  resolveName(hostId: string, deviceId: string): ResolvedDevice {
    const device = this.getDevice(hostId, deviceId);
    return { descriptor: device.entry.descriptor, device };
  }

  /** The verdict for a pair of descriptors, computed once and then served from the cache. */
  verdictFor(source: Descriptor, target: Descriptor): CachedVerdict {
    let bySource = this.verdicts.get(source.key);
    const hit = bySource?.get(target.key);
    if (hit) return hit;
    const verdict = evaluate(source, target);
    const cached: CachedVerdict = { verdict, rank: rankKey(source, target, verdict) };
    if (this.verdictCount >= VERDICT_CACHE_LIMIT) {
      // A whole-cache reset is crude but bounded; fleets hold few distinct descriptors, so a
      // registry that reaches the limit is rare and refills quickly.
      this.verdicts.clear();
      this.verdictCount = 0;
      bySource = undefined;
    }
    if (!bySource) {
      bySource = new Map();
      this.verdicts.set(source.key, bySource);
    }
    bySource.set(target.key, cached);
    this.verdictCount++;
    return cached;
  }

  /** How many devices of each descriptor the given hosts have. */
  private devicesOnHosts(hostIds: Iterable<string>): Map<DescriptorEntry, number> {
    const counts = new Map<DescriptorEntry, number>();
    for (const hostId of hostIds) {
      for (const device of this.hosts.get(hostId)?.devices.values() ?? []) {
        counts.set(device.entry, (counts.get(device.entry) ?? 0) + 1);
      }
    }
    return counts;
  }

  findTargets(source: ResolvedDevice, options: FindOptions): FindResult {
    const { descriptor } = source;
    const entries = new Set<DescriptorEntry>();
    const key = typeKey(descriptor.vendor, descriptor.deviceApi, descriptor.type);
    for (const entry of this.byType.get(key) ?? []) entries.add(entry);
    for (const entry of this.byCompatibleType.get(key) ?? []) entries.add(entry);

    const sourceHostId = source.device?.record.hostId;
    const keep = (device: LiveDevice): boolean => {
      const hostId = device.record.hostId;
      if (!options.includeSourceHost && hostId === sourceHostId) return false;
      if (options.excludeHosts.has(hostId)) return false;
      if (!labelsMatch(device.host.record.labels, options.hostLabels)) return false;
      if (options.requireAvailable && !((device.record.capacity?.available ?? 0) > 0)) return false;
      return true;
    };

    let candidates = 0;
    let rejected = 0;
    let distinctDescriptors = 0;
    const compatibleGroups: { cached: CachedVerdict; devices: LiveDevice[] }[] = [];
    const rejectedPool: { device: LiveDevice; cached: CachedVerdict }[] = [];
    // With host exclusions as the only filters, the devices of a rejected descriptor that
    // are not streamed need only be counted: no visit to each of them (for a common VF, most
    // of the candidates).
    const countOnly = !options.includeRejected && !options.requireAvailable && Object.keys(options.hostLabels).length === 0;
    const excludedPerEntry = countOnly ? this.devicesOnHosts(excludedHostIds(options, sourceHostId)) : undefined;
    for (const entry of entries) {
      if (entry.devices.size === 0) continue;
      const cached = this.verdictFor(descriptor, entry.descriptor);
      if (excludedPerEntry && cached.verdict.verdict === 'VERDICT_INCOMPATIBLE') {
        const count = entry.devices.size - (excludedPerEntry.get(entry) ?? 0);
        if (count === 0) continue;
        candidates += count;
        rejected += count;
        distinctDescriptors++;
        continue;
      }
      const devices: LiveDevice[] = [];
      for (const device of entry.devices) if (keep(device)) devices.push(device);
      if (devices.length === 0) continue;
      candidates += devices.length;
      distinctDescriptors++;
      if (cached.verdict.verdict === 'VERDICT_INCOMPATIBLE') {
        rejected += devices.length;
        if (options.includeRejected) for (const device of devices) rejectedPool.push({ device, cached });
      } else {
        compatibleGroups.push({ cached, devices });
      }
    }
    // Descriptor-level order first (verdict, exactness, version distance); devices of equally
    // ranked descriptors then compete on free capacity and name.
    compatibleGroups.sort((a, b) => compareRankKeys(a.cached.rank, b.cached.rank));
    const targets: FoundTarget[] = [];
    let compatible = 0;
    for (let i = 0; i < compatibleGroups.length; ) {
      let j = i + 1;
      while (j < compatibleGroups.length && compareRankKeys(compatibleGroups[i].cached.rank, compatibleGroups[j].cached.rank) === 0) j++;
      const tier: { device: LiveDevice; cached: CachedVerdict }[] = [];
      for (let g = i; g < j; g++) {
        for (const device of compatibleGroups[g].devices) tier.push({ device, cached: compatibleGroups[g].cached });
      }
      compatible += tier.length;
      const room = options.limit - targets.length;
      if (room > 0) {
        for (const chosen of selectBest(tier, room, compareByCapacityThenName)) {
          targets.push({ device: chosen.device, cached: chosen.cached, rank: targets.length + 1 });
        }
      }
      i = j;
    }

    const rejectedTargets = options.includeRejected
      ? selectBest(rejectedPool, options.rejectedLimit, compareRejected).map(({ device, cached }) => ({
          device,
          cached,
          rank: 0,
        }))
      : [];
    return {
      revision: this.revisionValue,
      candidates,
      compatible,
      rejected,
      distinctDescriptors,
      targets,
      rejectedTargets,
    };
  }
}

function compareByCapacityThenName(
  a: { device: LiveDevice },
  b: { device: LiveDevice },
): number {
  // Unknown capacity counts as none free.
  const freeA = a.device.record.capacity?.available ?? 0;
  const freeB = b.device.record.capacity?.available ?? 0;
  if (freeA !== freeB) return freeB - freeA;
  return a.device.name < b.device.name ? -1 : a.device.name > b.device.name ? 1 : 0;
}

/** Why-not order: the nearest misses (fewest failed checks) first, then by name. */
function compareRejected(
  a: { device: LiveDevice; cached: CachedVerdict },
  b: { device: LiveDevice; cached: CachedVerdict },
): number {
  const failsA = failures(a.cached.verdict);
  const failsB = failures(b.cached.verdict);
  if (failsA !== failsB) return failsA - failsB;
  return a.device.name < b.device.name ? -1 : a.device.name > b.device.name ? 1 : 0;
}

function failures(verdict: Verdict): number {
  let count = 0;
  for (const check of verdict.checks) if (check.result === 'CHECK_RESULT_FAIL') count++;
  return count;
}

function* devicesOf(owners: readonly { devices: Set<LiveDevice> | Map<string, LiveDevice> }[]): Generator<LiveDevice> {
  for (const owner of owners) yield* owner.devices.values();
}

function excludedHostIds(options: FindOptions, sourceHostId: string | undefined): Set<string> {
  const hosts = new Set(options.excludeHosts);
  if (!options.includeSourceHost && sourceHostId !== undefined) hosts.add(sourceHostId);
  return hosts;
}

function typeKey(vendor: string, deviceApi: string, type: string): string {
  return `${vendor}\u0000${deviceApi}\u0000${type}`;
}

function addToIndex(index: Map<string, Set<DescriptorEntry>>, key: string, entry: DescriptorEntry): void {
  let set = index.get(key);
  if (!set) {
    set = new Set();
    index.set(key, set);
  }
  set.add(entry);
}

function hostIdOf(write: PendingWrite): string {
  return write.kind === 'sync' ? write.command.hostId : write.hostId;
}

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
