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

import { DomainError, invalidArgument, notFound } from './errors.ts';
import type { Capacity, Descriptor, Verdict } from './model.ts';
import { evaluate } from './engine.ts';
import { compareRankKeys, rankKey, type RankKey } from './rank.ts';
import { deviceName, labelsEqual, labelsMatch, type Labels, type SyncHostCommand } from './resources.ts';
import type {
  ChainWalk,
  ChangeKind,
  Checkpoint,
  CommitBatch,
  CommitResult,
  CompactionResult,
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
  /** When the lease lapses unless renewed (ms); kept in memory, persisted about once a second. */
  leaseExpiry: number;
}

export type HostState = 'READY' | 'UNREACHABLE' | 'DRAINING';

/** Unreachable wins over draining: a draining host whose agent is gone is unreachable. */
export function hostState(record: HostRecord): HostState {
  if (!record.reachable) return 'UNREACHABLE';
  return record.draining ? 'DRAINING' : 'READY';
}

/** Who made a write, and why (recorded in history and chained). */
export interface WriteOrigin {
  readonly actor: string;
  readonly reason: string;
}

/** One committed revision, as watchers see it. */
export interface RevisionChange {
  readonly revision: number;
  readonly time: number;
  /** The history chain's head after this revision. */
  readonly headHash: string;
  readonly entries: readonly HistoryRecord[];
  /** A slot for the transport to memoize its encoding of the unfiltered change. */
  memo?: unknown;
}

export interface StateResult {
  readonly revision: number;
  readonly host: LiveHost;
  readonly changed: boolean;
}

export interface RegistryOptions {
  readonly clock?: () => number;
  /** Lease TTL in ms (default 30 s). */
  readonly leaseTtlMs?: number;
}

export const DEFAULT_LEASE_TTL_MS = 30_000;
const CHAIN_WALK_CHUNK = 5000;

export type RetentionPolicy = { readonly kind: 'revisions'; readonly keep: number } | { readonly kind: 'age'; readonly keepMs: number };

export interface ChainVerification {
  readonly intact: boolean;
  readonly checked: number;
  readonly headRevision: number;
  readonly headHash: string;
  readonly checkpoint: Checkpoint;
  readonly broken?: ChainWalk['broken'];
}

/** The registry as it was at a past revision: hosts and devices, for point-in-time reads. */
export class PastView {
  readonly hosts = new Map<string, LiveHost>();
  readonly devicesByEntry = new Map<DescriptorEntry, LiveDevice[]>();
  private sorted: LiveDevice[] | undefined;

  constructor(readonly revision: number) {}

  sortedDevices(): readonly LiveDevice[] {
    this.sorted ??= [...this.hosts.values()]
      .flatMap((host) => [...host.devices.values()])
      .sort((a, b) => compareIds(a.record.hostId, b.record.hostId) || compareIds(a.record.deviceId, b.record.deviceId));
    return this.sorted;
  }

  getDevice(hostId: string, deviceId: string): LiveDevice {
    const device = this.hosts.get(hostId)?.devices.get(deviceId);
    if (!device) throw new DomainError('NOT_FOUND', `${deviceName(hostId, deviceId)} did not exist at revision ${this.revision}`);
    return device;
  }
}
/** Lease expiry is detected within this much of the TTL. */
const LEASE_CHECK_INTERVAL_MS = 100;
/** Renewed leases are written to disk this often (keepalives are not each durable). */
const LEASE_PERSIST_INTERVAL_MS = 1000;
export const SERVER_ACTOR = 'devcompat';

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
  readonly includeUnreachable: boolean;
  readonly includeDraining: boolean;
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
  | { readonly kind: 'sync'; readonly command: SyncHostCommand; readonly origin: WriteOrigin; settle: Settle<SyncResult> }
  | {
      readonly kind: 'delete';
      readonly hostId: string;
      readonly expectedRevision: number | undefined;
      readonly origin: WriteOrigin;
      settle: Settle<DeleteResult>;
    }
  | {
      readonly kind: 'state';
      readonly hostId: string;
      readonly reachable?: boolean;
      readonly draining?: boolean;
      /** When the change happened, if not now (a lease that lapsed while the server was down). */
      readonly time?: number;
      readonly origin: WriteOrigin;
      settle: Settle<StateResult>;
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
  private headHashValue: string;
  private checkpointValue: Checkpoint;
  private readonly listeners = new Set<(change: RevisionChange) => void>();
  /** Hosts whose lease changed since it was last persisted. */
  private readonly renewedLeases = new Set<LiveHost>();
  /** Hosts with a reachability write queued, so it is queued once. */
  private readonly reachabilityPending = new Set<string>();
  /** Hosts that are not READY, for FindTargets' exclusions. */
  private readonly notReady = new Set<LiveHost>();
  private leaseTimers: NodeJS.Timeout[] = [];
  private persistingLeases: Promise<void> | undefined;
  /** Audit work (verification, compaction) runs one at a time. */
  private auditQueue: Promise<unknown> = Promise.resolve();
  private readonly pastViews = new Map<number, Promise<PastView>>();
  readonly leaseTtlMs: number;
  private readonly clock: () => number;

  /** Loads the registry's state from the store. */
  static async open(store: RegistryStore, options: RegistryOptions = {}): Promise<Registry> {
    return new Registry(store, options, await store.load());
  }

  private constructor(
    private readonly store: RegistryStore,
    options: RegistryOptions,
    state: LoadedState,
  ) {
    this.clock = options.clock ?? Date.now;
    this.leaseTtlMs = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
    this.revisionValue = state.revision;
    this.revisionTime = state.revisionTime;
    this.headHashValue = state.headHash;
    this.checkpointValue = state.checkpoint;
    for (const stored of state.descriptors) {
      const descriptor = validateDescriptor(JSON.parse(stored.key));
      this.addDescriptor({ id: stored.id, descriptor, devices: new Set() });
      this.nextDescriptorId = Math.max(this.nextDescriptorId, stored.id + 1);
    }
    for (const record of state.hosts) {
      const leaseExpiry = state.leaseExpiries.get(record.hostId) ?? record.lastSyncTime + this.leaseTtlMs;
      this.addHost({ record, devices: new Map(), leaseExpiry });
    }
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

  /** The history chain's head (hex SHA-256 of the last entry). */
  get headHash(): string {
    return this.headHashValue;
  }

  /** History up to and including checkpoint.revision has been compacted away. */
  get checkpoint(): Checkpoint {
    return this.checkpointValue;
  }

  /** The oldest revision a watch may start from. */
  get oldestRevision(): number {
    return this.checkpointValue.revision + 1;
  }

  /** Called synchronously after each committed revision, in revision order. */
  subscribe(listener: (change: RevisionChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
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

  syncHost(command: SyncHostCommand, origin: WriteOrigin): Promise<SyncResult> {
    return new Promise((resolve, reject) => {
      this.enqueue({ kind: 'sync', command, origin, settle: { resolve, reject } });
    });
  }

  deleteHost(hostId: string, expectedRevision: number | undefined, origin: WriteOrigin): Promise<DeleteResult> {
    return new Promise((resolve, reject) => {
      this.enqueue({ kind: 'delete', hostId, expectedRevision, origin, settle: { resolve, reject } });
    });
  }

  setDraining(hostId: string, draining: boolean, origin: WriteOrigin): Promise<StateResult> {
    return new Promise((resolve, reject) => {
      this.enqueue({ kind: 'state', hostId, draining, origin, settle: { resolve, reject } });
    });
  }

  // -------------------------------------------------------------------------------------
  // Leases

  /**
   * Renews a host's lease. Keepalives only touch memory (persisted about once a second); one
   * that finds the host UNREACHABLE also queues the write that makes it READY again.
   */
  keepAlive(hostId: string): { expireTime: number; state: HostState } {
    const host = this.getHost(hostId);
    host.leaseExpiry = this.clock() + this.leaseTtlMs;
    this.renewedLeases.add(host);
    if (!host.record.reachable) {
      this.queueReachability(host, true, undefined, { actor: SERVER_ACTOR, reason: 'lease renewed by a keepalive' });
      return { expireTime: host.leaseExpiry, state: host.record.draining ? 'DRAINING' : 'READY' };
    }
    return { expireTime: host.leaseExpiry, state: hostState(host.record) };
  }

  /**
   * Starts lease expiry: lapsed leases are expired at once (those that ran out while the
   * server was down are recorded at the time they ran out), then checked every 100 ms.
   */
  startLeases(): void {
    this.expireLapsedLeases();
    this.leaseTimers.push(
      setInterval(() => this.expireLapsedLeases(), Math.min(LEASE_CHECK_INTERVAL_MS, this.leaseTtlMs / 4)).unref(),
      setInterval(() => void this.persistLeases(), LEASE_PERSIST_INTERVAL_MS).unref(),
    );
  }

  private expireLapsedLeases(): void {
    if (this.closed) return;
    const now = this.clock();
    for (const host of this.hosts.values()) {
      if (host.record.reachable && host.leaseExpiry <= now && !this.reachabilityPending.has(host.record.hostId)) {
        this.queueReachability(host, false, host.leaseExpiry, {
          actor: SERVER_ACTOR,
          reason: `lease expired: no keepalive or sync for ${this.leaseTtlMs} ms`,
        });
      }
    }
  }

  private queueReachability(host: LiveHost, reachable: boolean, time: number | undefined, origin: WriteOrigin): void {
    const hostId = host.record.hostId;
    if (this.reachabilityPending.has(hostId) || this.closed) return;
    this.reachabilityPending.add(hostId);
    const done = () => {
      this.reachabilityPending.delete(hostId);
      // A keepalive that came while the lapse was being committed renewed the lease: the
      // host is reachable after all, and says so at once.
      const current = this.hosts.get(hostId);
      if (!reachable && current && !current.record.reachable && current.leaseExpiry > this.clock()) {
        this.queueReachability(current, true, undefined, { actor: SERVER_ACTOR, reason: 'lease renewed by a keepalive' });
      }
    };
    this.enqueue({ kind: 'state', hostId, reachable, time, origin, settle: { resolve: done, reject: done } });
  }

  /** Writes renewed lease expiries (not durable one by one; see docs/api.md, Leases). */
  private persistLeases(): Promise<void> {
    if (this.persistingLeases || this.renewedLeases.size === 0) return this.persistingLeases ?? Promise.resolve();
    const leases = [...this.renewedLeases].map((host) => ({ hostId: host.record.hostId, expireTime: host.leaseExpiry }));
    this.renewedLeases.clear();
    this.persistingLeases = this.store
      .commit({ ...EMPTY_BATCH, leases })
      .then(
        () => undefined,
        () => undefined, // the store failing is reported by the store itself; leases are renewed again
      )
      .finally(() => {
        this.persistingLeases = undefined;
      });
    return this.persistingLeases;
  }

  /** Writes that are already queued are committed; new ones are refused. */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.leaseTimers) clearInterval(timer);
    this.leaseTimers = [];
    while (this.committing || this.pending.length > 0) {
      if (this.committing) await this.committing;
      else this.flush();
    }
    await this.persistingLeases;
    await this.persistLeases();
    await this.auditQueue.catch(() => undefined);
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
    const now = this.clock();
    // Revision times never go backwards, even when the wall clock does or a change is dated
    // in the past (a lease that lapsed while the server was down).
    let lastTime = this.revisionTime;
    for (const write of writes) {
      const hostId = hostIdOf(write);
      // Each write is planned against the state before the batch, so one host is written
      // at most once per batch; a second write to it waits for the next batch.
      if (hostsInBatch.has(hostId)) {
        deferred.push(write);
        continue;
      }
      const time = Math.max(write.kind === 'state' ? write.time ?? now : now, lastTime);
      try {
        const plan =
          write.kind === 'sync'
            ? this.planSync(write, revision + 1, time, newDescriptors)
            : write.kind === 'delete'
              ? this.planDelete(write, revision + 1, time)
              : this.planState(write, revision + 1, time);
        if (plan.revision !== undefined) {
          revision = plan.revision;
          lastTime = time;
        }
        hostsInBatch.add(hostId);
        plans.push(plan);
      } catch (error) {
        write.settle.reject(error);
      }
    }
    this.pending.unshift(...deferred);
    if (plans.length > 0) {
      this.committing = this.commitPlans(plans, newDescriptors, revision, lastTime).finally(() => {
        this.committing = undefined;
        if (this.pending.length > 0) this.scheduleFlush();
      });
    } else if (this.pending.length > 0) {
      this.scheduleFlush();
    }
  }

  private async commitPlans(
    plans: Plan[],
    newDescriptors: Map<string, DescriptorEntry>,
    revision: number,
    revisionTime: number,
  ): Promise<void> {
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
        .filter((plan) => plan.revision === undefined && plan.host && plan.write.kind === 'sync')
        .map((plan) => ({ hostId: plan.host!.hostId, lastSyncTime: plan.host!.lastSyncTime })),
      leases: [],
    };
    let heads: CommitResult['heads'];
    try {
      ({ heads } = await this.store.commit(batch));
    } catch (error) {
      for (const plan of plans) plan.write.settle.reject(error);
      return;
    }
    for (const entry of newDescriptors.values()) if (usedDescriptors.has(entry)) this.addDescriptor(entry);
    for (const plan of plans) this.applyPlan(plan);
    if (changing.length > 0) this.revisionTime = revisionTime;
    this.revisionValue = revision;
    if (heads.length > 0) this.headHashValue = heads[heads.length - 1].hash;
    for (let i = 0; i < changing.length; i++) {
      const plan = changing[i];
      const change: RevisionChange = {
        revision: plan.revision!,
        time: plan.history[0].time,
        headHash: heads[i].hash,
        entries: plan.history,
      };
      for (const listener of this.listeners) listener(change);
    }
    for (const plan of plans) this.acknowledge(plan);
  }

  private planSync(
    write: Extract<PendingWrite, { kind: 'sync' }>,
    revision: number,
    now: number,
    newDescriptors: Map<string, DescriptorEntry>,
  ): Plan {
    const { command, origin } = write;
    const existing = this.hosts.get(command.hostId);
    checkExpectedRevision(command.hostId, existing, command.expectedRevision);

    const upserts: { record: DeviceRecord; entry: DescriptorEntry }[] = [];
    const history: HistoryRecord[] = [];
    let created = 0;
    let updated = 0;
    // A sync renews the lease: an unreachable host becomes reachable again.
    const hostChanged = !existing || !labelsEqual(existing.record.labels, command.labels) || !existing.record.reachable;
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
      reachable: true,
      draining: existing?.record.draining ?? false,
    };
    let seq = 0;
    const { actor, reason } = origin;
    const entry = (hostId: string, deviceId: string, change: ChangeKind, before: HistoryRecord['before'], after: HistoryRecord['after']) =>
      history.push({ revision, seq: seq++, time: now, hostId, deviceId, change, actor, reason, before, after });
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
        actor: write.origin.actor,
        reason: write.origin.reason,
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
      actor: write.origin.actor,
      reason: write.origin.reason,
      before: { kind: 'host', host: existing.record },
      after: undefined,
    });
    return { write, revision, host: undefined, upserts: [], deletes, history, created: 0, updated: 0 };
  }

  /** A host's reachability (its lease) or draining mark changes; its devices do not. */
  private planState(write: Extract<PendingWrite, { kind: 'state' }>, revision: number, time: number): Plan {
    const existing = this.hosts.get(write.hostId);
    if (!existing) throw notFound(`hosts/${write.hostId}`);
    const reachable = write.reachable ?? existing.record.reachable;
    const draining = write.draining ?? existing.record.draining;
    // A lapse queued just before a keepalive or sync renewed the lease is dropped.
    const stale = write.reachable === false && existing.leaseExpiry > this.clock();
    if (stale || (reachable === existing.record.reachable && draining === existing.record.draining)) {
      return { write, revision: undefined, host: existing.record, upserts: [], deletes: [], history: [], created: 0, updated: 0 };
    }
    const host: HostRecord = { ...existing.record, reachable, draining, revision, updateTime: time };
    const history: HistoryRecord[] = [
      {
        revision,
        seq: 0,
        time,
        hostId: write.hostId,
        deviceId: '',
        change: 'UPDATED',
        actor: write.origin.actor,
        reason: write.origin.reason,
        before: { kind: 'host', host: existing.record },
        after: { kind: 'host', host },
      },
    ];
    return { write, revision, host, upserts: [], deletes: [], history, created: 0, updated: 0 };
  }

  private applyPlan(plan: Plan): void {
    const hostId = hostIdOf(plan.write);
    if (!plan.host) {
      const host = this.hosts.get(hostId);
      if (host) {
        for (const device of [...host.devices.values()]) this.removeDevice(device);
        this.hostLabels.remove(host.record.labels, host);
        this.hostOrder.remove(hostId);
        this.notReady.delete(host);
        this.renewedLeases.delete(host);
      }
      this.hosts.delete(hostId);
      return;
    }
    let host = this.hosts.get(hostId);
    if (plan.write.kind === 'sync' && host) {
      host.leaseExpiry = plan.host.lastSyncTime + this.leaseTtlMs;
      this.renewedLeases.add(host);
    }
    if (!host) {
      host = { record: plan.host, devices: new Map(), leaseExpiry: plan.host.lastSyncTime + this.leaseTtlMs };
      this.addHost(host);
      this.renewedLeases.add(host);
    } else {
      if (!labelsEqual(host.record.labels, plan.host.labels)) {
        this.hostLabels.remove(host.record.labels, host);
        this.hostLabels.add(plan.host.labels, host);
      }
      host.record = plan.host;
      if (hostState(plan.host) === 'READY') this.notReady.delete(host);
      else this.notReady.add(host);
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
    if (write.kind === 'state') {
      write.settle.resolve({
        revision: plan.revision ?? this.revisionValue,
        host: this.hosts.get(write.hostId)!,
        changed: plan.revision !== undefined,
      });
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
    if (hostState(host.record) !== 'READY') this.notReady.add(host);
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
  // Point in time. History keeps, for every change, the resource before and after it; so the
  // state at revision R is the current state with each resource changed after R replaced by
  // the `before` of its first change after R. That needs only the history after R, which
  // compaction keeps (everything after the checkpoint).

  /** Resolves `as_of_revision` / `as_of_time` to a revision the registry can answer at. */
  async resolveAsOf(asOf: { revision?: number; time?: number }): Promise<number> {
    let revision = asOf.revision;
    if (revision === undefined) {
      if (asOf.time === undefined) return this.revisionValue;
      revision = (await this.store.revisionAt(asOf.time)) ?? 0;
      if (revision < this.checkpointValue.revision) throw this.compacted(revision, this.checkpointValue.revision);
      return revision;
    }
    if (revision > this.revisionValue) {
      throw invalidArgument([
        { field: 'as_of_revision', description: `is after the current revision ${this.revisionValue}` },
      ]);
    }
    if (revision < this.checkpointValue.revision) throw this.compacted(revision, this.checkpointValue.revision);
    return revision;
  }

  compacted(revision: number, oldest: number): DomainError {
    return new DomainError(
      'REVISION_COMPACTED',
      `revision ${revision} has been compacted: the oldest revision available is ${oldest}`,
      { metadata: { revision: String(revision), oldest_revision: String(oldest) } },
    );
  }

  /** One device as it was at `revision` (already resolved with resolveAsOf). */
  async deviceAt(hostId: string, deviceId: string, revision: number): Promise<{ record: DeviceRecord; descriptor: Descriptor }> {
    const name = deviceName(hostId, deviceId);
    if (revision >= this.revisionValue) {
      const device = this.getDevice(hostId, deviceId);
      return { record: device.record, descriptor: device.entry.descriptor };
    }
    const [first] = await this.store.firstChangesAfter({ revision, hostId, deviceId });
    // Memory now reflects exactly what the store held when it answered (calls are in order).
    let record: DeviceRecord | undefined;
    if (first) record = first.before?.kind === 'device' ? first.before.device : undefined;
    else record = this.hosts.get(hostId)?.devices.get(deviceId)?.record;
    if (!record) throw new DomainError('NOT_FOUND', `${name} did not exist at revision ${revision}`, { metadata: { resource: name } });
    return { record, descriptor: this.descriptorById(record.descriptorId) };
  }

  /** The whole registry as it was at `revision`; the last few views are kept. */
  viewAt(revision: number): Promise<PastView> {
    let view = this.pastViews.get(revision);
    if (!view) {
      view = this.buildView(revision);
      view.catch(() => this.pastViews.delete(revision));
      if (this.pastViews.size >= 4) this.pastViews.delete(this.pastViews.keys().next().value!);
      this.pastViews.set(revision, view);
    }
    return view;
  }

  private async buildView(revision: number): Promise<PastView> {
    const changes = await this.store.firstChangesAfter({ revision });
    const view = new PastView(revision);
    const pastHosts = new Map<string, HostRecord | undefined>();
    const pastDevices = new Map<string, DeviceRecord | undefined>();
    for (const change of changes) {
      if (change.deviceId === '') pastHosts.set(change.hostId, change.before?.kind === 'host' ? change.before.host : undefined);
      else pastDevices.set(`${change.hostId}\u0000${change.deviceId}`, change.before?.kind === 'device' ? change.before.device : undefined);
    }
    const hostRecords = new Map<string, HostRecord>();
    for (const [hostId, host] of this.hosts) if (!pastHosts.has(hostId)) hostRecords.set(hostId, host.record);
    for (const [hostId, record] of pastHosts) if (record) hostRecords.set(hostId, record);
    for (const [hostId, record] of hostRecords) view.hosts.set(hostId, { record, devices: new Map(), leaseExpiry: 0 });
    const add = (record: DeviceRecord) => {
      const host = view.hosts.get(record.hostId);
      const entry = this.descriptorsById.get(record.descriptorId);
      if (!host || !entry) return;
      const device: LiveDevice = { record, name: deviceName(record.hostId, record.deviceId), entry, host };
      host.devices.set(record.deviceId, device);
      let list = view.devicesByEntry.get(entry);
      if (!list) view.devicesByEntry.set(entry, (list = []));
      list.push(device);
    };
    for (const host of this.hosts.values()) {
      for (const device of host.devices.values()) {
        if (!pastDevices.has(`${device.record.hostId}\u0000${device.record.deviceId}`)) add(device.record);
      }
    }
    for (const record of pastDevices.values()) if (record) add(record);
    return view;
  }

  /** listDevices on a past view: a filtered walk of its devices in order. */
  listDevicesIn(view: PastView, query: DeviceListQuery): LiveDevice[] {
    const { after } = query;
    const page: LiveDevice[] = [];
    for (const device of view.sortedDevices()) {
      if (page.length >= query.limit) break;
      const { hostId, deviceId } = device.record;
      if (after && (hostId < after.hostId || (hostId === after.hostId && deviceId <= after.deviceId))) continue;
      if (query.hostId !== undefined && hostId !== query.hostId) continue;
      if (query.descriptorIds !== undefined && !query.descriptorIds.has(device.entry.id)) continue;
      if (!labelsMatch(device.record.labels, query.labels)) continue;
      if (!labelsMatch(device.host.record.labels, query.hostLabels)) continue;
      page.push(device);
    }
    return page;
  }

  // -------------------------------------------------------------------------------------
  // Audit

  /**
   * Walks the history chain from the checkpoint to the head, 5,000 entries per store call so
   * that writes go on meanwhile. With `expectedHead`, that hash must be on the chain.
   */
  verifyHistory(expectedHead: string | undefined): Promise<ChainVerification> {
    return this.audit(async () => {
      const checkpoint = this.checkpointValue;
      let prev = checkpoint.hash;
      let after: { revision: number; seq: number } | undefined;
      let checked = 0;
      let found = expectedHead === undefined || expectedHead === prev;
      let head = { revision: checkpoint.revision, hash: prev };
      const result = (extra: Partial<ChainVerification>): ChainVerification => ({
        intact: true,
        checked,
        headRevision: head.revision,
        headHash: head.hash,
        checkpoint,
        ...extra,
      });
      for (;;) {
        const walk: ChainWalk = await this.store.verifyChain({ after, prevHash: prev, limit: CHAIN_WALK_CHUNK, expectedHead });
        checked += walk.checked;
        if (walk.foundExpectedHead) found = true;
        if (walk.last) {
          after = { revision: walk.last.revision, seq: walk.last.seq };
          prev = walk.last.hash;
          head = { revision: walk.last.revision, hash: walk.last.hash };
        }
        if (walk.broken) return result({ intact: false, broken: walk.broken });
        if (walk.checked < CHAIN_WALK_CHUNK) break;
      }
      // The walk ended where the file's chain ends; memory reflects the same commits.
      if (head.hash !== this.headHashValue) {
        return result({
          intact: false,
          broken: {
            revision: head.revision,
            seq: 0,
            problem: 'HEAD_MISMATCH',
            description: `the stored chain ends at revision ${head.revision} (${head.hash.slice(0, 12)}…), but the server's head is revision ${this.revisionValue} (${this.headHashValue.slice(0, 12)}…): entries were removed or rewritten behind the server's back`,
          },
        });
      }
      if (!found) {
        return result({
          intact: false,
          broken: {
            revision: 0,
            seq: 0,
            problem: 'HEAD_NOT_FOUND',
            description: `no entry has the expected head ${expectedHead}: history was rewritten or its tail removed (or the head predates the checkpoint at revision ${checkpoint.revision})`,
          },
        });
      }
      return result({});
    });
  }

  /** Removes history up to and including `revision`, keeping a checkpoint of the chain. */
  compact(revision: number): Promise<CompactionResult> {
    if (revision > this.revisionValue) {
      return Promise.reject(
        invalidArgument([{ field: 'revision', description: `is after the current revision ${this.revisionValue}` }]),
      );
    }
    return this.audit(async () => {
      const result = await this.store.compact(revision, this.clock());
      this.checkpointValue = result.checkpoint;
      return result;
    });
  }

  /** Compacts per a retention policy: keep the last N revisions, or the last N ms of history. */
  async applyRetention(policy: RetentionPolicy): Promise<CompactionResult | undefined> {
    let revision: number;
    if (policy.kind === 'revisions') revision = this.revisionValue - policy.keep;
    else revision = ((await this.store.revisionAt(this.clock() - policy.keepMs)) ?? 0) - 1;
    if (revision <= this.checkpointValue.revision) return undefined;
    return this.compact(revision);
  }

  private audit<T>(work: () => Promise<T>): Promise<T> {
    const next = this.auditQueue.then(work, work);
    this.auditQueue = next.catch(() => undefined);
    return next;
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

  /** Hosts whose devices FindTargets leaves out: by request, the source's own, and by state. */
  private excludedHostIds(options: FindOptions, sourceHostId: string | undefined): Set<string> {
    const hosts = new Set(options.excludeHosts);
    if (!options.includeSourceHost && sourceHostId !== undefined) hosts.add(sourceHostId);
    for (const host of this.notReady) if (!hostIsEligible(host.record, options)) hosts.add(host.record.hostId);
    return hosts;
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

  /** The descriptors a source may be judged against: its type, and those listing it as compatible. */
  candidateEntries(descriptor: Descriptor): Set<DescriptorEntry> {
    const entries = new Set<DescriptorEntry>();
    const key = typeKey(descriptor.vendor, descriptor.deviceApi, descriptor.type);
    for (const entry of this.byType.get(key) ?? []) entries.add(entry);
    for (const entry of this.byCompatibleType.get(key) ?? []) entries.add(entry);
    return entries;
  }

  isCandidate(source: Descriptor, target: Descriptor): boolean {
    return (
      target.vendor === source.vendor &&
      target.deviceApi === source.deviceApi &&
      (target.type === source.type || target.compatibleTypes.includes(source.type))
    );
  }

  findHost(hostId: string): LiveHost | undefined {
    return this.hosts.get(hostId);
  }

  findDevice(hostId: string, deviceId: string): LiveDevice | undefined {
    return this.hosts.get(hostId)?.devices.get(deviceId);
  }

  /** FindTargets at the current revision or, given a view, at a past one. */
  findTargets(source: ResolvedDevice, options: FindOptions, view?: PastView): FindResult {
    const { descriptor } = source;
    const entries = this.candidateEntries(descriptor);

    const sourceHostId = source.device?.record.hostId;
    const keep = (device: LiveDevice): boolean => {
      const hostId = device.record.hostId;
      if (!options.includeSourceHost && hostId === sourceHostId) return false;
      if (!hostIsEligible(device.host.record, options)) return false;
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
    const countOnly =
      !view && !options.includeRejected && !options.requireAvailable && Object.keys(options.hostLabels).length === 0;
    const excludedPerEntry = countOnly ? this.devicesOnHosts(this.excludedHostIds(options, sourceHostId)) : undefined;
    for (const entry of entries) {
      const entryDevices: Iterable<LiveDevice> & { readonly size?: number; readonly length?: number } = view
        ? view.devicesByEntry.get(entry) ?? []
        : entry.devices;
      if ((entryDevices.size ?? entryDevices.length) === 0) continue;
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
      for (const device of entryDevices) if (keep(device)) devices.push(device);
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
      revision: view?.revision ?? this.revisionValue,
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

/** Whether a host's state lets its devices be targets under these options. */
export function hostIsEligible(
  record: HostRecord,
  options: { readonly includeUnreachable: boolean; readonly includeDraining: boolean },
): boolean {
  if (!record.reachable && !options.includeUnreachable) return false;
  if (record.draining && !options.includeDraining) return false;
  return true;
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

const EMPTY_BATCH: CommitBatch = {
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
