// What FindPlacements derives from one live host, kept between queries: the host's capacity
// as claims see it (capacityOf), its free state with claims counted (freeState), and its free
// units over all its devices (the placement key's last term), plus each live device's
// HostDevice. Rebuilding these per solved host on every query was most of FindPlacements'
// allocation (and so of its garbage-collection time), above all under explain, which solves
// every host with a candidate.
//
// Validity without a change feed: an entry is used only while the host's record, its claim
// book and every one of its live devices are the very objects it was built from. A write
// replaces the host record and puts new LiveDevice objects (live-state.ts), a claim write or
// an expiry gives a new book (claims.ts is immutable), so any change misses the cache and
// rebuilds; checking costs one pass over the host's devices and allocates nothing. Entries
// are held weakly by the LiveHost / LiveDevice, so they go when the host or device does:
// memory is at most one entry per live host and device that a query has solved.
//
// May call: claims.ts (freeState, freeUnits), claims-registry.ts (capacityOf).

import { freeState, freeUnits, type ClaimBook, type FreeState, type HostCapacity } from './claims.ts';
import { capacityOf } from './claims-registry.ts';
import type { LiveDevice, LiveHost } from './live-state.ts';
import type { HostRecord } from './store.ts';
import type { HostDevice } from './placement-rank.ts';

export interface HostDerived {
  readonly capacity: HostCapacity;
  readonly state: FreeState;
  /** Free units of every device of the host, claims counted and budgets applied. */
  readonly hostFreeUnits: number;
}

interface Entry extends HostDerived {
  readonly record: HostRecord;
  /** The book it was built from; undefined for a book without claims (those are made afresh per read). */
  readonly book: ClaimBook | undefined;
  readonly devices: readonly LiveDevice[];
}

const hosts = new WeakMap<LiveHost, Entry>();
const devices = new WeakMap<LiveDevice, HostDevice>();

/** The host's derived data for this book, from the cache when nothing it depends on changed. */
export function hostDerived(host: LiveHost, book: ClaimBook): HostDerived {
  const bookKey = book.claims.size === 0 ? undefined : book;
  const cached = hosts.get(host);
  if (cached && cached.record === host.record && cached.book === bookKey && sameDevices(cached.devices, host)) return cached;
  const capacity = capacityOf(host);
  const state = freeState(capacity, book);
  let hostFreeUnits = 0;
  for (const deviceId of capacity.devices.keys()) hostFreeUnits += freeUnits(capacity, state, deviceId);
  const entry: Entry = { record: host.record, book: bookKey, devices: [...host.devices.values()], capacity, state, hostFreeUnits };
  hosts.set(host, entry);
  return entry;
}

/** A live device as a placement names and judges it (a LiveDevice never changes: a write replaces it). */
export function hostDevice(device: LiveDevice): HostDevice {
  let found = devices.get(device);
  if (!found) {
    found = { deviceId: device.record.deviceId, name: device.name, descriptorKey: device.entry.descriptor.key };
    devices.set(device, found);
  }
  return found;
}

function sameDevices(list: readonly LiveDevice[], host: LiveHost): boolean {
  if (list.length !== host.devices.size) return false;
  let i = 0;
  for (const device of host.devices.values()) if (device !== list[i++]) return false;
  return true;
}
