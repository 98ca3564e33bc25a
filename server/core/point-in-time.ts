// Point-in-time reads. History keeps, for every change, the resource before and after it; so
// the state at revision R is the current state with each resource changed after R replaced by
// the `before` of its first change after R. That needs only the history after R, which
// compaction keeps (everything after the checkpoint). One device is read with one targeted
// query; a whole past registry (a list, a FindTargets) is materialized once as a PastView,
// and the views read last are cached: at most four, and beyond the last one read, at most
// 640,000 devices together. A view being built counts against those bounds: reads of one
// revision share its build, and builds of other revisions wait their turn in arrival order (a
// waiting read holds no view, and one whose signal aborts gives up: no gRPC call passes one yet), so however many past reads
// arrive at once, memory stays within what one read at a time could hold. Its history is read
// slice by slice (64 revisions per store call) up to the revision the registry had when the
// read began, then what was written meanwhile in one call: writes, queued behind each call in
// the store, wait for one slice, never for the whole history since R.
//
// Owns: the past-view cache. May call: the store's `firstChangesAfter` and `revisionAt`, the
// live state's reads, the audit's checkpoint. After reading history it asks the audit to
// refresh the checkpoint (another server sharing the store may have compacted meanwhile) and
// refuses a revision that is now below it, so an answer is never built on partial history.

import { DomainError, invalidArgument, notFound } from './errors.ts';
import type { Descriptor } from './model.ts';
import type { DescriptorEntry, DeviceListQuery, LiveDevice, LiveHost, LiveState } from './live-state.ts';
import { compareIds } from './listing.ts';
import { deviceName, labelsMatch } from './resources.ts';
import type { Checkpoint, DeviceRecord, HostRecord, RegistryStore } from './store.ts';
import type { Budget } from './budgets.ts';

/** How many materialized past views are kept at most (least recently read goes first). */
const PAST_VIEW_CACHE = 4;
/**
 * Devices the kept past views may hold together, beyond the one read last (always kept: a past
 * listing reads its view page by page). A view costs ~90 bytes a device (14 MB for the bench's
 * 160,000; a scratch probe), so this is ~60 MB: four views of a 10,000-host fleet, one of a
 * 100,000-host fleet, instead of four at any size (~550 MB there).
 */
export const DEFAULT_PAST_VIEW_CACHE_DEVICES = 640_000;
/**
 * Revisions of history one store call reads while a past view is built (a revision is one
 * write: a host's sync, usually a few dozen entries). Writes queue behind at most one such
 * call: on the bench machine, with the 10,000 revisions of its fleet read in one call, the
 * writes made during a read at revision 1 waited 2.7-3.7 s; in slices of 64 their p99 was
 * 43-117 ms (the longest 117-261 ms, once 520 ms). docs/benchmarks.md, "Past reads and writes".
 */
export const DEFAULT_PAST_VIEW_SLICE = 64;

/** `as_of_revision` / `as_of_time` of a read: at most one is set. */
export interface AsOf {
  readonly revision?: number;
  readonly time?: number;
}

/** One device as it is (or was) at a view's revision. */
export interface DeviceAt {
  readonly record: DeviceRecord;
  readonly name: string;
  readonly descriptor: Descriptor;
  /** Its host's shared budgets at the same revision (for its free units). */
  readonly budgets: readonly Budget[];
}

/** REVISION_COMPACTED (OUT_OF_RANGE): history before `oldest` is gone. */
export function compacted(revision: number, oldest: number): DomainError {
  return new DomainError(
    'REVISION_COMPACTED',
    `revision ${revision} has been compacted: the oldest revision available is ${oldest}`,
    { metadata: { revision: String(revision), oldest_revision: String(oldest) } },
  );
}

/** The registry as it was at a past revision: hosts and devices, for point-in-time reads. */
export class PastView {
  readonly hosts = new Map<string, LiveHost>();
  readonly devicesByEntry = new Map<DescriptorEntry, LiveDevice[]>();
  private sorted: LiveDevice[] | undefined;

  constructor(readonly revision: number) {}

  /** Its devices: what it costs to keep (point-in-time.ts's cache budget). */
  get deviceCount(): number {
    let count = 0;
    for (const host of this.hosts.values()) count += host.devices.size;
    return count;
  }

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

  devicesOf(entry: DescriptorEntry): readonly LiveDevice[] | undefined {
    return this.devicesByEntry.get(entry);
  }

  /** A device listing of this view: a filtered walk of its devices in order. */
  listDevices(query: DeviceListQuery): LiveDevice[] {
    const { after } = query;
    const page: LiveDevice[] = [];
    for (const device of this.sortedDevices()) {
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
}

/**
 * A past view in the cache: waiting for a place to be built (holding nothing yet), being built
 * (holding up to `devices`, the registry's size when it began), or built (holding `devices`).
 */
interface CachedView {
  readonly revision: number;
  readonly view: Promise<PastView>;
  phase: 'waiting' | 'building' | 'built';
  devices: number;
  /** Reads waiting for it that have not given up: once none is left, a view still waiting is not built. */
  readers: number;
  resolve(view: PastView): void;
  reject(reason: unknown): void;
}

/** What the past-view cache holds: at most PAST_VIEW_CACHE views built or being built. */
export interface PastViewStats {
  /** Views being built now. */
  readonly building: number;
  /** Views built and kept. */
  readonly kept: number;
  /** Devices of the views kept. */
  readonly keptDevices: number;
  /** Revisions whose reads wait for a place to build their view. */
  readonly waiting: number;
}

export class PointInTime {
  /** Least recently read first: views waiting, being built and built. */
  private readonly views = new Map<number, CachedView>();
  /** Views waiting to be built, in the order they were first read. */
  private readonly waiting: CachedView[] = [];
  private building = 0;
  /** Devices the views being built may reach (each: the registry's size when it began). */
  private buildingDevices = 0;

  constructor(
    private readonly store: RegistryStore,
    private readonly state: LiveState,
    private readonly history: { readonly checkpoint: Checkpoint; refresh(): Promise<void> },
    private readonly sliceRevisions = DEFAULT_PAST_VIEW_SLICE,
    private readonly cacheDevices = DEFAULT_PAST_VIEW_CACHE_DEVICES,
  ) {
    if (!Number.isSafeInteger(sliceRevisions) || sliceRevisions < 1) throw new Error(`a past view's slice must be a whole number of revisions from 1, not ${sliceRevisions}`);
  }

  /** Resolves `as_of_revision` / `as_of_time` to a revision the registry can answer at. */
  async resolveAsOf(asOf: AsOf): Promise<number> {
    const checkpoint = this.history.checkpoint.revision;
    let revision = asOf.revision;
    if (revision === undefined) {
      if (asOf.time === undefined) return this.state.revision;
      revision = (await this.store.revisionAt(asOf.time)) ?? 0;
      if (revision < this.history.checkpoint.revision) throw compacted(revision, this.history.checkpoint.revision);
      return revision;
    }
    if (revision > this.state.revision) {
      throw invalidArgument([{ field: 'as_of_revision', description: `is after the current revision ${this.state.revision}` }]);
    }
    if (revision < checkpoint) throw compacted(revision, checkpoint);
    return revision;
  }

  /** One device as it was at `revision` (already resolved with resolveAsOf). */
  async deviceAt(hostId: string, deviceId: string, revision: number): Promise<DeviceAt> {
    const name = deviceName(hostId, deviceId);
    if (revision >= this.state.revision) {
      const device = this.state.findDevice(hostId, deviceId);
      if (!device) throw notFound(name);
      return { record: device.record, name, descriptor: device.entry.descriptor, budgets: device.host.record.budgets ?? [] };
    }
    const [[first], [hostChange]] = await Promise.all([
      this.store.firstChangesAfter({ revision, hostId, deviceId }),
      this.store.firstChangesAfter({ revision, hostId, deviceId: '' }),
    ]);
    // Memory now reflects exactly what the store held when it answered (calls are in order):
    // read it before any other await.
    const record: DeviceRecord | undefined = first
      ? first.before?.kind === 'device'
        ? first.before.device
        : undefined
      : this.state.findDevice(hostId, deviceId)?.record;
    const host = hostChange ? (hostChange.before?.kind === 'host' ? hostChange.before.host : undefined) : this.state.findHost(hostId)?.record;
    await this.stillAnswerable(revision);
    if (!record) throw new DomainError('NOT_FOUND', `${name} did not exist at revision ${revision}`, { metadata: { resource: name } });
    return { record, name, descriptor: this.state.descriptorById(record.descriptorId), budgets: host?.budgets ?? [] };
  }

  /**
   * Refuses `revision` if history it needs was compacted away while it was read (by another
   * server sharing the store, or by this one): what the read found may be incomplete.
   */
  private async stillAnswerable(revision: number): Promise<void> {
    await this.history.refresh();
    const checkpoint = this.history.checkpoint.revision;
    if (revision < checkpoint) throw compacted(revision, checkpoint);
  }

  /**
   * The whole registry as it was at `revision`; the last few views are kept. Reads of one
   * revision share one build; builds of different revisions wait in turn for a place (see
   * `admit`). A read whose `signal` aborts stops waiting (rejected with its reason), and a view
   * that no read waits for any more is not built.
   */
  async viewAt(revision: number, signal?: AbortSignal): Promise<PastView> {
    signal?.throwIfAborted();
    const view = await this.cachedView(revision, signal);
    await this.stillAnswerable(revision);
    return view;
  }

  /** The views the cache holds now (cheap: for tests and metrics). */
  get stats(): PastViewStats {
    let kept = 0;
    let keptDevices = 0;
    for (const cached of this.views.values()) {
      if (cached.phase !== 'built') continue;
      kept++;
      keptDevices += cached.devices;
    }
    return { building: this.building, kept, keptDevices, waiting: this.waiting.length };
  }

  private cachedView(revision: number, signal: AbortSignal | undefined): Promise<PastView> {
    let cached = this.views.get(revision);
    if (cached) {
      // Read again: now the most recently read.
      this.views.delete(revision);
      this.views.set(revision, cached);
    } else {
      cached = this.waitForPlace(revision);
    }
    const counted = cached.phase === 'waiting';
    if (counted) cached.readers++;
    return signal && cached.phase !== 'built' ? this.untilAborted(cached, signal, counted) : cached.view;
  }

  private waitForPlace(revision: number): CachedView {
    let resolve!: (view: PastView) => void;
    let reject!: (reason: unknown) => void;
    const view = new Promise<PastView>((onView, onError) => {
      resolve = onView;
      reject = onError;
    });
    // A view given up before it was built rejects with nobody waiting.
    view.catch(() => {});
    const cached: CachedView = { revision, view, phase: 'waiting', devices: 0, readers: 0, resolve, reject };
    this.views.set(revision, cached);
    this.waiting.push(cached);
    this.admit();
    return cached;
  }

  /**
   * `cached`'s view for one read, or its signal's reason once it aborts; the last read `counted`
   * among those waiting for a view still waiting to give it up drops it.
   */
  private untilAborted(cached: CachedView, signal: AbortSignal, counted: boolean): Promise<PastView> {
    return new Promise((resolve, reject) => {
      const abort = () => {
        if (counted) cached.readers--;
        if (counted && cached.phase === 'waiting' && cached.readers === 0) {
          this.waiting.splice(this.waiting.indexOf(cached), 1);
          if (this.views.get(cached.revision) === cached) this.views.delete(cached.revision);
          cached.reject(signal.reason);
        }
        reject(signal.reason);
      };
      signal.addEventListener('abort', abort, { once: true });
      cached.view.then(
        (view) => {
          signal.removeEventListener('abort', abort);
          resolve(view);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', abort);
          reject(error);
        },
      );
    });
  }

  /**
   * Starts the views waiting, first read first, while there is room. A build holds memory the
   * cache cannot drop until it ends, so it counts against the cache's bounds as it begins: one
   * build alone always starts (the cache then behaves as for one read at a time); another
   * starts only if the builds, it (each as big as the registry now) and the views kept fit in
   * PAST_VIEW_CACHE views and the device budget, dropping kept views least recently read
   * first (never the last one read). So concurrent reads never hold more than four views, nor
   * more devices than one read at a time could.
   */
  private admit(): void {
    while (this.waiting.length > 0) {
      const estimate = this.state.stats.devices;
      if (this.building > 0 && !this.makeRoom(estimate)) return;
      const next = this.waiting.shift()!;
      next.phase = 'building';
      next.devices = estimate;
      this.building++;
      this.buildingDevices += estimate;
      this.evict();
      this.build(next.revision).then(
        (built) => {
          this.building--;
          this.buildingDevices -= next.devices;
          next.phase = 'built';
          next.devices = built.deviceCount;
          this.evict();
          next.resolve(built);
          this.admit();
        },
        (error: unknown) => {
          this.building--;
          this.buildingDevices -= next.devices;
          if (this.views.get(next.revision) === next) this.views.delete(next.revision);
          next.reject(error);
          this.admit();
        },
      );
    }
  }

  /** Whether one more build of `estimate` devices fits beside those in progress, once kept views are dropped; drops them only if so. */
  private makeRoom(estimate: number): boolean {
    if (this.building >= PAST_VIEW_CACHE) return false;
    let held = this.building + 1;
    let devices = this.buildingDevices + estimate;
    if (devices > this.cacheDevices) return false;
    const kept = [...this.views.values()].filter((cached) => cached.phase === 'built');
    for (const cached of kept) {
      held++;
      devices += cached.devices;
    }
    const last = [...this.views.keys()].at(-1);
    const dropped: CachedView[] = [];
    for (const cached of kept) {
      if (held <= PAST_VIEW_CACHE && devices <= this.cacheDevices) break;
      if (cached.revision === last) continue;
      dropped.push(cached);
      held--;
      devices -= cached.devices;
    }
    if (held > PAST_VIEW_CACHE || devices > this.cacheDevices) return false;
    for (const cached of dropped) this.views.delete(cached.revision);
    return true;
  }

  /**
   * Drops the least recently read built views while more than PAST_VIEW_CACHE are built or being
   * built, or those built hold more devices than the budget; never the last one read. A view
   * being built is never dropped: its memory stays until it ends.
   */
  private evict(): void {
    let held = this.building;
    let devices = 0;
    for (const cached of this.views.values()) {
      if (cached.phase !== 'built') continue;
      held++;
      devices += cached.devices;
    }
    const last = [...this.views.keys()].at(-1);
    for (const cached of [...this.views.values()]) {
      if (held <= PAST_VIEW_CACHE && devices <= this.cacheDevices) return;
      if (cached.phase !== 'built' || cached.revision === last) continue;
      this.views.delete(cached.revision);
      held--;
      devices -= cached.devices;
    }
  }

  /**
   * Each resource's state at `revision`, for those changed since: read slice by slice up to the
   * live state's revision when the read began, each resource's first change kept, then, unless
   * the last slice already reached the live state's revision when it was answered, everything
   * after it in one call (what was written during the read: the read ends however fast writes
   * come). The store answers calls in order, so once the last call is answered memory holds no
   * write it has not read: the caller must read the live state in the same tick as this resolves.
   */
  private async pastRecords(revision: number) {
    const pastHosts = new Map<string, HostRecord | undefined>();
    const pastDevices = new Map<string, DeviceRecord | undefined>();
    const slicedUpTo = this.state.revision;
    for (let after = revision; ; ) {
      // Past the revision of the read's start: one last call, to the head.
      const through = after < slicedUpTo ? after + this.sliceRevisions : undefined;
      const slice = await this.store.firstChangesAfter({ revision: after, through });
      for (const change of slice) {
        if (change.deviceId === '') {
          if (!pastHosts.has(change.hostId)) pastHosts.set(change.hostId, change.before?.kind === 'host' ? change.before.host : undefined);
        } else {
          const key = `${change.hostId}\u0000${change.deviceId}`;
          if (!pastDevices.has(key)) pastDevices.set(key, change.before?.kind === 'device' ? change.before.device : undefined);
        }
      }
      if (through === undefined || through >= this.state.revision) return { pastHosts, pastDevices };
      after = through;
    }
  }

  private async build(revision: number): Promise<PastView> {
    const { pastHosts, pastDevices } = await this.pastRecords(revision);
    // Memory now holds exactly the writes the slices have read: read it before any other await.
    const view = new PastView(revision);
    const hostRecords = new Map<string, HostRecord>();
    const liveHosts = [...this.state.allHosts()];
    for (const host of liveHosts) if (!pastHosts.has(host.record.hostId)) hostRecords.set(host.record.hostId, host.record);
    for (const [hostId, record] of pastHosts) if (record) hostRecords.set(hostId, record);
    const deviceTables = new Map<string, Map<string, LiveDevice>>();
    for (const [hostId, record] of hostRecords) {
      const devices = new Map<string, LiveDevice>();
      deviceTables.set(hostId, devices);
      view.hosts.set(hostId, { record, devices, leaseExpiry: 0, leaseDue: 0 });
    }
    const add = (record: DeviceRecord) => {
      const host = view.hosts.get(record.hostId);
      const entry = this.state.entryById(record.descriptorId);
      if (!host || !entry) return;
      const device: LiveDevice = { record, name: deviceName(record.hostId, record.deviceId), entry, host };
      deviceTables.get(record.hostId)!.set(record.deviceId, device);
      let list = view.devicesByEntry.get(entry);
      if (!list) view.devicesByEntry.set(entry, (list = []));
      list.push(device);
    };
    for (const host of liveHosts) {
      for (const device of host.devices.values()) {
        if (!pastDevices.has(`${device.record.hostId}\u0000${device.record.deviceId}`)) add(device.record);
      }
    }
    for (const record of pastDevices.values()) if (record) add(record);
    return view;
  }
}
