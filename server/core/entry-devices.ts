// The live devices of one descriptor entry, as the live state keeps them: an array, each device
// holding its own place in it, in place of a Set. A Set costs 20-40 bytes per device in its hash
// table (key and chain slots, buckets, room to grow); this costs the array's slot and the
// device's place, 16 bytes. Adding appends; removing moves the last device into the removed
// one's place, so the order is not the order of insertion (nothing reads it in an order:
// FindTargets ranks, listings sort, FindPlacements ranks hosts by key and id).
//
// Owned by live-state.ts, which alone calls `add` and `delete`; everyone else reads.

/** Where a device keeps its place in its entry's array (the live state's devices, a private field). */
export interface Places<T> {
  get(device: T): number;
  set(device: T, place: number): void;
}

export class EntryDevices<T> implements Iterable<T> {
  private readonly list: T[] = [];

  constructor(private readonly places: Places<T>) {}

  get size(): number {
    return this.list.length;
  }

  has(device: T): boolean {
    return this.list[this.places.get(device)] === device;
  }

  /** Adds a device that is not in any entry's devices. */
  add(device: T): void {
    this.places.set(device, this.list.length);
    this.list.push(device);
  }

  /** Removes the device; whether it was there. */
  delete(device: T): boolean {
    const place = this.places.get(device);
    if (this.list[place] !== device) return false;
    const last = this.list.pop()!;
    if (last !== device) {
      this.list[place] = last;
      this.places.set(last, place);
    }
    return true;
  }

  values(): ArrayIterator<T> {
    return this.list.values();
  }

  [Symbol.iterator](): ArrayIterator<T> {
    return this.list.values();
  }
}
