// A live device's layout in memory (issue 7: memory per device): the object the live state
// (live-state.ts) keeps for each device, which is its own DeviceRecord, with the record's fields
// read through what it shares with other devices (its host, a shared id, its descriptor entry,
// interned labels and capacity, the revision stamps of a revision's devices); the descriptor
// entries, whose device lists know each device's place; and `deviceRecordOf`, the plain copy
// a history entry holds. Only live-state.ts makes these objects.
//
// May import: resources.ts, entry-devices.ts, model.ts and store.ts types, live-state.ts types.

import type { Capacity, Descriptor } from './model.ts';
import { deviceName, sharedDeviceId, type Labels } from './resources.ts';
import type { DeviceRecord } from './store.ts';
import { EntryDevices, type Places } from './entry-devices.ts';
import type { DescriptorEntry, LiveDevice, LiveHost } from './live-state.ts';

/** Where each live device is in its descriptor entry's devices (set by StateDevice's static block). */
let places: Places<LiveDevice>;

/** A descriptor table entry without devices yet. */
export function descriptorEntry(id: number, descriptor: Descriptor): DescriptorEntry {
  return { id, descriptor, devices: new EntryDevices(places) };
}

/**
 * A revision and its commit time, shared by every live device it created or last changed: a
 * sync's devices get one, and a device's creation is one its later changes keep.
 */
export interface Stamp {
  readonly revision: number;
  readonly time: number;
}

/**
 * A live device is its own record: one object per device rather than a record and a wrapper.
 * Its fields are what cannot be shared or derived: its host, its id (shared between hosts'
 * devices of that id), its descriptor entry, its interned labels and capacity, the stamps of
 * its last change and of its creation (a revision and a time each, shared with the other
 * devices of that revision: the two times as numbers of its own were 16-byte boxes each), and
 * its place in its entry's devices. The record's fields are getters over them (its host id is
 * its host's, its descriptor id its entry's), and its name is built when asked for: 88 bytes
 * per device, where the record's nine own fields, their two boxed times and a cached name took
 * 152. Being getters, the fields are not the object's own: a copy of a device's record (a
 * history entry, a structured clone, a spread) is made with `deviceRecordOf`.
 */
export class StateDevice implements LiveDevice, DeviceRecord {
  readonly #host: LiveHost;
  readonly #deviceId: string;
  readonly #entry: DescriptorEntry;
  readonly #labels: Labels;
  readonly #capacity: Capacity | undefined;
  readonly #updated: Stamp;
  readonly #created: Stamp;
  /** Its place in its entry's devices (EntryDevices). */
  #place = -1;

  static {
    places = { get: (device) => (device as StateDevice).#place, set: (device, place) => void ((device as StateDevice).#place = place) };
  }

  constructor(host: LiveHost, deviceId: string, entry: DescriptorEntry, labels: Labels, capacity: Capacity | undefined, updated: Stamp, created: Stamp) {
    this.#host = host;
    // Shared with other hosts' devices of that id (a restart's load reads a string per device).
    this.#deviceId = sharedDeviceId(deviceId);
    this.#entry = entry;
    this.#labels = labels;
    this.#capacity = capacity;
    this.#updated = updated;
    this.#created = created;
  }

  /** The stamp of the device's creation (for the device that replaces it). */
  static createdOf(device: LiveDevice): Stamp | undefined {
    return device instanceof StateDevice ? device.#created : undefined;
  }

  get record(): DeviceRecord {
    return this;
  }

  get entry(): DescriptorEntry {
    return this.#entry;
  }

  get host(): LiveHost {
    return this.#host;
  }

  get name(): string {
    return deviceName(this.#host.record.hostId, this.#deviceId);
  }

  get hostId(): string {
    return this.#host.record.hostId;
  }

  get deviceId(): string {
    return this.#deviceId;
  }

  get descriptorId(): number {
    return this.#entry.id;
  }

  get capacity(): Capacity | undefined {
    return this.#capacity;
  }

  get labels(): Labels {
    return this.#labels;
  }

  get revision(): number {
    return this.#updated.revision;
  }

  get createRevision(): number {
    return this.#created.revision;
  }

  get createTime(): number {
    return this.#created.time;
  }

  get updateTime(): number {
    return this.#updated.time;
  }
}

/** A device record as plain data (its own fields): what a history entry or a copy holds. */
export function deviceRecordOf(record: DeviceRecord): DeviceRecord {
  return {
    hostId: record.hostId,
    deviceId: record.deviceId,
    descriptorId: record.descriptorId,
    capacity: record.capacity,
    labels: record.labels,
    revision: record.revision,
    createRevision: record.createRevision,
    createTime: record.createTime,
    updateTime: record.updateTime,
  };
}
