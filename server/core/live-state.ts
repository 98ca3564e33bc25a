// The registry as of its latest commit, in memory: every host and device, the descriptor
// table (interned by canonical key), and the indexes that serve reads without a scan — by
// descriptor type, by accepted type, by label, hosts in id order, and the hosts that are not
// READY. It is the one owner of this state: the group commit changes it only through
// `apply`/`committed` once a batch is durable; every other concern reads it.
//
// Live objects are shared, not copied: a LiveDevice is replaced when its device changes, but a
// LiveHost is the same object for the host's whole life and `apply` updates its record, its
// device map and (leases.ts) its lease expiry in place. A reader that must not see later
// writes copies what it needs before it yields (FindTargets ranks within one tick).
//
// May import: listing.ts, resources.ts, validate.ts, errors.ts, host-devices.ts, entry-devices.ts, live-device.ts, store.ts types.

import { notFound } from './errors.ts';
import type { Capacity, Descriptor } from './model.ts';
import { deviceName, labelsEqual, labelsMatch, type Labels } from './resources.ts';
import type { DeviceRecord, HostRecord, LoadedState, LoadedTables } from './store.ts';
import { compareIds, LabelIndex, pageOf, SortedIds } from './listing.ts';
import { validateDescriptor } from './validate.ts';
import { HostDevices } from './host-devices.ts';
import type { EntryDevices } from './entry-devices.ts';
import { descriptorEntry, StateDevice, type Stamp } from './live-device.ts';

export interface DescriptorEntry {
  readonly id: number;
  readonly descriptor: Descriptor;
  /** The live devices that have this descriptor, in no particular order. */
  readonly devices: EntryDevices<LiveDevice>;
}

/**
 * A device as it is now. A change replaces the object (its host stays the same object). The
 * live state's devices are their own records (`device.record === device`, see live-device.ts).
 */
export interface LiveDevice {
  readonly record: DeviceRecord;
  readonly name: string;
  readonly entry: DescriptorEntry;
  readonly host: LiveHost;
}

/** A host as it is now: one object for the host's life, updated in place by each commit. */
export interface LiveHost {
  record: HostRecord;
  /** By device id; iterated in id order (the live state's are a HostDevices). */
  readonly devices: ReadonlyMap<string, LiveDevice>;
  /**
   * When the lease lapses unless renewed, on the wall clock (ms since the epoch): what clients
   * are told and what is persisted. Written by leases.ts only.
   */
  leaseExpiry: number;
  /**
   * The same moment on the clock's elapsed time, which is never stepped: what the lapse is
   * decided by, so that a wall clock stepped forward lapses no lease early and one stepped back
   * keeps none late. Written by leases.ts only.
   */
  leaseDue: number;
}

export type HostState = 'READY' | 'UNREACHABLE' | 'DRAINING';

/** Unreachable wins over draining: a draining host whose agent is gone is unreachable. */
export function hostState(record: HostRecord): HostState {
  if (!record.reachable) return 'UNREACHABLE';
  return record.draining ? 'DRAINING' : 'READY';
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

/** What one write does to the state (a planned write, once committed). */
export interface StateChange {
  readonly hostId: string;
  /** The host after; undefined when the host is deleted. */
  readonly host: HostRecord | undefined;
  readonly upserts: readonly { readonly record: DeviceRecord; readonly entry: DescriptorEntry }[];
  readonly deletes: readonly LiveDevice[];
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

const INTERN_LIMIT = 100_000;

export class LiveState {
  private revisionValue: number;
  /** Commit time of the latest revision: revision times never go backwards, even if the
   * wall clock does, so that a time range is always a revision range. */
  private revisionTimeValue: number;
  private headHashValue: string;
  private readonly hosts = new Map<string, LiveHost>();
  private readonly descriptorsByKey = new Map<string, DescriptorEntry>();
  private readonly descriptorsById = new Map<number, DescriptorEntry>();
  /** vendor \0 device_api \0 type -> descriptors of that type. */
  private readonly byType = new Map<string, Set<DescriptorEntry>>();
  /** vendor \0 device_api \0 type -> descriptors that list the type in compatible_types. */
  private readonly byCompatibleType = new Map<string, Set<DescriptorEntry>>();
  private readonly hostOrder = new SortedIds();
  private readonly hostLabels = new LabelIndex<LiveHost>();
  /**
   * Devices by label, built on the first query that selects devices by label and kept from
   * then on: a restart need not index 160,000 devices' labels before it serves.
   */
  private deviceLabelIndex: LabelIndex<LiveDevice> | undefined;
  /** Hosts that are not READY, for FindTargets' exclusions. */
  private readonly notReady = new Set<LiveHost>();
  private nextDescriptorId = 1;
  /** The highest id of a descriptor in the table (a follower reads the store's newer ones). */
  private highestDescriptorIdValue = 0;
  private deviceCount = 0;
  /** Equal label sets and capacities are shared: fleets repeat them on every host. */
  private readonly internedLabels = new Map<string, Labels>();
  /** Label sets already interned, by the object given (weak: an input no longer held goes). */
  private readonly internedByObject = new WeakMap<Labels, Labels>();
  private readonly internedCapacities = new Map<string, Capacity>();
  /** While loading: the interned capacity of each loaded object and the stamps made (shared across pages). */
  private loadedShared: { capacities: Map<Capacity, Capacity | undefined>; stamps: Map<number, Stamp> } | undefined;
  /** The stamp last given to a device (the next of a commit's or a load's devices likely shares it). */
  private lastStamp: Stamp | undefined;

  /** Builds the state the store loaded; `leaseOf` gives each host's initial lease expiry. */
  constructor(loaded: LoadedState, leaseOf: (record: HostRecord) => number) {
    this.revisionValue = loaded.revision;
    this.revisionTimeValue = loaded.revisionTime;
    this.headHashValue = loaded.headHash;
    for (const stored of loaded.descriptors) {
      const descriptor = validateDescriptor(JSON.parse(stored.key));
      this.addDescriptor(descriptorEntry(stored.id, descriptor));
      this.nextDescriptorId = Math.max(this.nextDescriptorId, stored.id + 1);
    }
    for (const record of loaded.hosts) this.addHost({ record, devices: new HostDevices(), leaseExpiry: leaseOf(record), leaseDue: -Infinity });
    this.addLoadedDevices(loaded.devices);
    this.loadedShared = undefined;
  }

  /**
   * A state being built from a load that comes in parts (a StateLoad): the tables now, the
   * devices one by one as they are decoded (`addLoadedDevice`), the head last (`loadedHead`). Serves nothing
   * until then: its revision and head are the empty registry's.
   */
  static loading(tables: LoadedTables, leaseOf: (record: HostRecord) => number): LiveState {
    const state = new LiveState({ ...tables, devices: [], revision: 0, revisionTime: 0, headHash: '', checkpoint: { revision: 0, hash: '' } }, leaseOf);
    return state;
  }

  /** Loaded devices, added while the state is being built (their hosts and descriptors loaded first). */
  addLoadedDevices(records: readonly DeviceRecord[]): void {
    for (const record of records) this.addLoadedDevice(record);
  }

  /** One loaded device; nothing of `record` itself is kept (a load may reuse it for the next device). */
  addLoadedDevice(record: DeviceRecord): void {
    // A store that shares equal label sets and capacities (SQLite's load) is interned once per
    // shared object, not once per device (a JSON text each: 0.7 s for 160,000 devices).
    const { capacities: capacityOf } = (this.loadedShared ??= { capacities: new Map(), stamps: new Map() });
    const host = this.hosts.get(record.hostId);
    const entry = this.descriptorsById.get(record.descriptorId);
    if (!host || !entry) throw new Error(`device ${record.hostId}/${record.deviceId} refers to a missing host or descriptor`);
    const labels = this.intern(record.labels);
    let capacity: Capacity | undefined;
    if (record.capacity) {
      capacity = capacityOf.get(record.capacity);
      if (!capacity) capacityOf.set(record.capacity, (capacity = this.internCapacity(record.capacity)));
    }
    this.putDevice(host, record, entry, labels, capacity);
  }

  /** Ends a build begun by `loading`: the load's head (known once the store's start-up checks passed). */
  loadedHead(head: { readonly revision: number; readonly revisionTime: number; readonly headHash: string }): void {
    this.revisionValue = head.revision;
    this.revisionTimeValue = head.revisionTime;
    this.headHashValue = head.headHash;
    this.loadedShared = undefined;
  }

  get revision(): number {
    return this.revisionValue;
  }

  /** Commit time of the latest revision (0 for an empty registry). */
  get revisionTime(): number {
    return this.revisionTimeValue;
  }

  /** The history chain's head (hex SHA-256 of the last entry). */
  get headHash(): string {
    return this.headHashValue;
  }

  get stats(): { hosts: number; devices: number; descriptors: number } {
    return { hosts: this.hosts.size, devices: this.deviceCount, descriptors: this.descriptorsByKey.size };
  }

  // -------------------------------------------------------------------------------------
  // Reads

  findHost(hostId: string): LiveHost | undefined {
    return this.hosts.get(hostId);
  }

  getHost(hostId: string): LiveHost {
    const host = this.hosts.get(hostId);
    if (!host) throw notFound(`hosts/${hostId}`);
    return host;
  }

  findDevice(hostId: string, deviceId: string): LiveDevice | undefined {
    return this.hosts.get(hostId)?.devices.get(deviceId);
  }

  getDevice(hostId: string, deviceId: string): LiveDevice {
    const device = this.findDevice(hostId, deviceId);
    if (!device) throw notFound(deviceName(hostId, deviceId));
    return device;
  }

  /** Every host, in no particular order. */
  allHosts(): IterableIterator<LiveHost> {
    return this.hosts.values();
  }

  /** The hosts that are not READY (unreachable or draining). */
  hostsNotReady(): ReadonlySet<LiveHost> {
    return this.notReady;
  }

  entryById(id: number): DescriptorEntry | undefined {
    return this.descriptorsById.get(id);
  }

  entryByKey(key: string): DescriptorEntry | undefined {
    return this.descriptorsByKey.get(key);
  }

  descriptorById(id: number): Descriptor {
    const entry = this.descriptorsById.get(id);
    if (!entry) throw new Error(`descriptor ${id} is not known`);
    return entry.descriptor;
  }

  /** The descriptors a source may be judged against: its type, and those listing it as compatible. */
  candidateEntries(descriptor: Descriptor): Set<DescriptorEntry> {
    const entries = new Set<DescriptorEntry>();
    const key = typeKey(descriptor.vendor, descriptor.deviceApi, descriptor.type);
    for (const entry of this.byType.get(key) ?? []) entries.add(entry);
    for (const entry of this.byCompatibleType.get(key) ?? []) entries.add(entry);
    return entries;
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

  /** Hosts in id order after the cursor, filtered by labels, from the indexes. */
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
      sources.push({ size: entries.reduce((sum, entry) => sum + entry.devices.size, 0), devices: () => devicesOfAll(entries) });
    }
    for (const [key, value] of Object.entries(query.labels)) {
      const devices = this.deviceLabels().get(key, value);
      sources.push({ size: devices.size, devices: () => devices });
    }
    for (const [key, value] of Object.entries(query.hostLabels)) {
      const hosts = [...this.hostLabels.get(key, value)];
      sources.push({
        size: hosts.reduce((sum, host) => sum + host.devices.size, 0),
        devices: () => devicesOfAll(hosts),
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
        // A live host's devices iterate in id order (HostDevices).
        for (const device of host.devices.values()) {
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

  // -------------------------------------------------------------------------------------
  // Changes (the group commit calls these once a batch is durable; planning only allocates)

  get highestDescriptorId(): number {
    return this.highestDescriptorIdValue;
  }

  /** The table's entry for a descriptor id, if it has one. */
  descriptorEntryById(id: number): DescriptorEntry | undefined {
    return this.descriptorsById.get(id);
  }

  /** A descriptor entry not yet in the table, with a fresh id (added by `addDescriptor`). */
  newDescriptorEntry(descriptor: Descriptor): DescriptorEntry {
    return descriptorEntry(this.nextDescriptorId++, descriptor);
  }

  addDescriptor(entry: DescriptorEntry): void {
    this.highestDescriptorIdValue = Math.max(this.highestDescriptorIdValue, entry.id);
    this.nextDescriptorId = Math.max(this.nextDescriptorId, entry.id + 1);
    this.descriptorsByKey.set(entry.descriptor.key, entry);
    this.descriptorsById.set(entry.id, entry);
    const { vendor, deviceApi, type, compatibleTypes } = entry.descriptor;
    addToIndex(this.byType, typeKey(vendor, deviceApi, type), entry);
    for (const compatible of compatibleTypes) addToIndex(this.byCompatibleType, typeKey(vendor, deviceApi, compatible), entry);
  }

  /**
   * Applies one committed write. Returns the host as it is now and, when the write deleted
   * it, the host that was removed. A new host's lease is set by leases.ts as it is applied.
   */
  apply(change: StateChange): { host: LiveHost | undefined; removed: LiveHost | undefined; created: boolean } {
    const { hostId } = change;
    if (!change.host) {
      const host = this.hosts.get(hostId);
      if (host) {
        for (const device of host.devices.values()) this.unlinkDevice(device);
        devicesOf(host).clear(); // at once: one device at a time would shift the rest each time
        this.hostLabels.remove(host.record.labels, host);
        this.hostOrder.remove(hostId);
        this.notReady.delete(host);
      }
      this.hosts.delete(hostId);
      return { host: undefined, removed: host, created: false };
    }
    let host = this.hosts.get(hostId);
    const created = !host;
    if (!host) {
      host = { record: change.host, devices: new HostDevices(), leaseExpiry: 0, leaseDue: -Infinity };
      this.addHost(host);
    } else {
      if (!labelsEqual(host.record.labels, change.host.labels)) {
        this.hostLabels.remove(host.record.labels, host);
        this.hostLabels.add(change.host.labels, host);
      }
      host.record = change.host;
      if (hostState(change.host) === 'READY') this.notReady.delete(host);
      else this.notReady.add(host);
    }
    for (const device of change.deletes) this.removeDevice(device);
    for (const { record, entry } of change.upserts) {
      // The new device takes the old one's place in its host's table (putDevice).
      const before = host.devices.get(record.deviceId);
      if (before) this.unlinkDevice(before);
      this.putDevice(host, record, entry, record.labels, record.capacity, before);
    }
    return { host, removed: undefined, created };
  }

  /** Moves the state to a committed revision (its time only when something changed). */
  committed(revision: number, revisionTime: number | undefined, headHash: string | undefined): void {
    if (revisionTime !== undefined) this.revisionTimeValue = revisionTime;
    this.revisionValue = revision;
    if (headHash !== undefined) this.headHashValue = headHash;
  }

  /** Equal label sets are shared: fleets repeat them on every host. */
  intern(labels: Labels): Labels {
    // A set seen before as this very object (validation hands the same one out for repeated
    // input: core/resources.ts validateLabels) is found without encoding it.
    const known = this.internedByObject.get(labels);
    if (known) return known;
    const key = JSON.stringify(labels);
    let shared = this.internedLabels.get(key);
    if (!shared) {
      if (this.internedLabels.size >= INTERN_LIMIT) this.internedLabels.clear();
      this.internedLabels.set(key, labels);
      shared = labels;
    }
    this.internedByObject.set(labels, shared);
    return shared;
  }

  internCapacity(capacity: Capacity | undefined): Capacity | undefined {
    if (!capacity) return undefined;
    const key = `${capacity.total}/${capacity.available}`;
    const shared = this.internedCapacities.get(key);
    if (shared) return shared;
    if (this.internedCapacities.size >= INTERN_LIMIT) this.internedCapacities.clear();
    this.internedCapacities.set(key, capacity);
    return capacity;
  }

  /**
   * The stamp of a revision at a time: the last one made, or one seen while loading, when they
   * match (a commit's devices come one host after another, a load's host by host), else a new one.
   */
  private stamp(revision: number, time: number): Stamp {
    const last = this.lastStamp;
    if (last !== undefined && last.revision === revision && last.time === time) return last;
    const loaded = this.loadedShared?.stamps;
    let stamp = loaded?.get(revision);
    if (stamp === undefined || stamp.time !== time) {
      stamp = { revision, time };
      loaded?.set(revision, stamp);
    }
    return (this.lastStamp = stamp);
  }

  private deviceLabels(): LabelIndex<LiveDevice> {
    if (!this.deviceLabelIndex) {
      const index = new LabelIndex<LiveDevice>();
      for (const host of this.hosts.values()) for (const device of host.devices.values()) index.add(device.record.labels, device);
      this.deviceLabelIndex = index;
    }
    return this.deviceLabelIndex;
  }

  private addHost(host: LiveHost): void {
    if (hostState(host.record) !== 'READY') this.notReady.add(host);
    this.hosts.set(host.record.hostId, host);
    this.hostOrder.insert(host.record.hostId);
    this.hostLabels.add(host.record.labels, host);
  }

  private putDevice(
    host: LiveHost,
    record: DeviceRecord,
    entry: DescriptorEntry,
    labels: Labels,
    capacity: Capacity | undefined,
    before?: LiveDevice,
  ): void {
    const updated = this.stamp(record.revision, record.updateTime);
    let created: Stamp;
    if (record.createRevision === record.revision && record.createTime === record.updateTime) created = updated;
    else {
      const kept = before && StateDevice.createdOf(before);
      created = kept && kept.revision === record.createRevision && kept.time === record.createTime ? kept : this.stamp(record.createRevision, record.createTime);
    }
    const device: LiveDevice = new StateDevice(host, record.deviceId, entry, labels, capacity, updated, created);
    devicesOf(host).put(device);
    entry.devices.add(device);
    this.deviceLabelIndex?.add(labels, device);
    this.deviceCount++;
  }

  private removeDevice(device: LiveDevice): void {
    devicesOf(device.host).remove(device.record.deviceId);
    this.unlinkDevice(device);
  }

  /** Takes a device out of every index but its host's table. */
  private unlinkDevice(device: LiveDevice): void {
    device.entry.devices.delete(device);
    this.deviceLabelIndex?.remove(device.record.labels, device);
    this.deviceCount--;
  }

}

/** Whether `target` is judged for `source` at all: same vendor and API, and its type or a compatible one. */
export function isCandidate(source: Descriptor, target: Descriptor): boolean {
  return (
    target.vendor === source.vendor &&
    target.deviceApi === source.deviceApi &&
    (target.type === source.type || target.compatibleTypes.includes(source.type))
  );
}

function* devicesOfAll(owners: readonly { devices: { values(): IterableIterator<LiveDevice> } }[]): Generator<LiveDevice> {
  for (const owner of owners) yield* owner.devices.values();
}

/** A live host's device table: the live state made it (apply, addHost), so it is a HostDevices. */
function devicesOf(host: LiveHost): HostDevices<LiveDevice> {
  return host.devices as HostDevices<LiveDevice>;
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
