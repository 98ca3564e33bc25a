// One host's devices by id, as the live state keeps them: an array sorted by device id, read
// through the ReadonlyMap interface. A Map costs about 30 bytes per entry in its hash table
// (key, value and chain slots, buckets, room to grow) on top of the device; this array costs
// 8, and a fleet has 16 devices per host. Lookups are a binary search (a host has tens,
// at most a few thousand devices); a sync inserts its devices in id order, so most inserts
// are appends. Iteration is in device id order, which listings want anyway.
//
// Owned by live-state.ts, which alone calls `put` and `remove`; everyone else reads.

export interface HasDeviceId {
  readonly record: { readonly deviceId: string };
}

export class HostDevices<T extends HasDeviceId> implements ReadonlyMap<string, T> {
  private readonly sorted: T[] = [];

  get size(): number {
    return this.sorted.length;
  }

  get(deviceId: string): T | undefined {
    const at = this.lowerBound(deviceId);
    const found = this.sorted[at];
    return found !== undefined && found.record.deviceId === deviceId ? found : undefined;
  }

  has(deviceId: string): boolean {
    return this.get(deviceId) !== undefined;
  }

  /** Adds the device, or replaces the one with its id. */
  put(device: T): void {
    const id = device.record.deviceId;
    const last = this.sorted[this.sorted.length - 1];
    if (last === undefined || last.record.deviceId < id) {
      this.sorted.push(device);
      return;
    }
    const at = this.lowerBound(id);
    if (this.sorted[at]?.record.deviceId === id) this.sorted[at] = device;
    else this.sorted.splice(at, 0, device);
  }

  /** Removes the device with this id; whether there was one. */
  remove(deviceId: string): boolean {
    const at = this.lowerBound(deviceId);
    if (this.sorted[at]?.record.deviceId !== deviceId) return false;
    this.sorted.splice(at, 1);
    return true;
  }

  /** Removes every device. */
  clear(): void {
    this.sorted.length = 0;
  }

  values(): ArrayIterator<T> {
    return this.sorted.values();
  }

  *keys(): MapIterator<string> {
    for (const device of this.sorted) yield device.record.deviceId;
  }

  *entries(): MapIterator<[string, T]> {
    for (const device of this.sorted) yield [device.record.deviceId, device];
  }

  [Symbol.iterator](): MapIterator<[string, T]> {
    return this.entries();
  }

  forEach(callback: (value: T, key: string, map: ReadonlyMap<string, T>) => void, thisArg?: unknown): void {
    for (const device of this.sorted) callback.call(thisArg, device, device.record.deviceId, this);
  }

  private lowerBound(deviceId: string): number {
    let low = 0;
    let high = this.sorted.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.sorted[middle].record.deviceId < deviceId) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
