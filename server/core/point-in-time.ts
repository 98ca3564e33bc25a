// Point-in-time reads. History keeps, for every change, the resource before and after it; so
// the state at revision R is the current state with each resource changed after R replaced by
// the `before` of its first change after R. That needs only the history after R, which
// compaction keeps (everything after the checkpoint). One device is read with one targeted
// query; a whole past registry (a list, a FindTargets) is materialized once as a PastView,
// and the views read last are cached: at most four, and beyond the last one read, at most
// 640,000 devices together. Its history is read slice by slice (64 revisions per
// store call) up to the revision the registry had when the read began, then what was written
// meanwhile in one call: writes, queued behind each call in the store, wait for one slice,
// never for the whole history since R.
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

export class PointInTime {
  /** Least recently read first. */
  private readonly views = new Map<number, Promise<PastView>>();
  /** Devices of each built view in `views`. */
  private readonly sizes = new Map<number, number>();

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

  /** The whole registry as it was at `revision`; the last few views are kept. */
  async viewAt(revision: number): Promise<PastView> {
    const view = await this.cachedView(revision);
    await this.stillAnswerable(revision);
    return view;
  }

  private cachedView(revision: number): Promise<PastView> {
    let view = this.views.get(revision);
    if (view) {
      // Read again: now the most recently read.
      this.views.delete(revision);
      this.views.set(revision, view);
      return view;
    }
    view = this.build(revision);
    this.views.set(revision, view);
    view.then(
      (built) => {
        if (this.views.get(revision) !== view) return;
        this.sizes.set(revision, built.deviceCount);
        this.evict();
      },
      () => {
        if (this.views.get(revision) === view) this.views.delete(revision);
      },
    );
    this.evict();
    return view;
  }

  /** Drops the least recently read views while more than PAST_VIEW_CACHE, or more devices than the budget, are kept; never the last one read. */
  private evict(): void {
    let devices = 0;
    for (const size of this.sizes.values()) devices += size;
    for (const revision of this.views.keys()) {
      if (this.views.size <= 1 || (this.views.size <= PAST_VIEW_CACHE && devices <= this.cacheDevices)) return;
      this.views.delete(revision);
      devices -= this.sizes.get(revision) ?? 0;
      this.sizes.delete(revision);
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
