// Items by the time they fall due, earliest first: a binary min-heap that knows where each item
// sits, so that an item can be rescheduled or removed in O(log n) without a scan. The watch
// hub's progress timer takes from it only the watchers whose interval may have run out, instead
// of visiting every watcher on every tick.
//
// An item is in the queue at most once; its due time is a number (milliseconds on the hub's
// clock). Items that fall due at the same time come out in no particular order.
// May import nothing.

interface Slot<T> {
  readonly item: T;
  due: number;
}

export class DueQueue<T> {
  private readonly heap: Slot<T>[] = [];
  /** Where each item's slot is in `heap`. */
  private readonly index = new Map<T, number>();

  get size(): number {
    return this.heap.length;
  }

  /** The due time of `item`, or undefined when it is not queued. */
  dueOf(item: T): number | undefined {
    const at = this.index.get(item);
    return at === undefined ? undefined : this.heap[at].due;
  }

  /** Queues `item` at `due`, or moves it there if it is queued already. */
  schedule(item: T, due: number): void {
    const at = this.index.get(item);
    if (at === undefined) {
      this.heap.push({ item, due });
      this.index.set(item, this.heap.length - 1);
      this.up(this.heap.length - 1);
      return;
    }
    const before = this.heap[at].due;
    this.heap[at].due = due;
    if (due < before) this.up(at);
    else this.down(at);
  }

  /** Removes `item`; false when it was not queued. */
  delete(item: T): boolean {
    const at = this.index.get(item);
    if (at === undefined) return false;
    this.index.delete(item);
    const last = this.heap.pop()!;
    if (at < this.heap.length) {
      this.heap[at] = last;
      this.index.set(last.item, at);
      this.down(at);
      this.up(at);
    }
    return true;
  }

  /** Removes and returns every item due at or before `now`, earliest first. */
  takeDue(now: number): T[] {
    const due: T[] = [];
    while (this.heap.length > 0 && this.heap[0].due <= now) {
      const item = this.heap[0].item;
      this.delete(item);
      due.push(item);
    }
    return due;
  }

  private up(at: number): void {
    const slot = this.heap[at];
    while (at > 0) {
      const parentAt = (at - 1) >> 1;
      const parent = this.heap[parentAt];
      if (parent.due <= slot.due) break;
      this.heap[at] = parent;
      this.index.set(parent.item, at);
      at = parentAt;
    }
    this.heap[at] = slot;
    this.index.set(slot.item, at);
  }

  private down(at: number): void {
    const slot = this.heap[at];
    const size = this.heap.length;
    for (;;) {
      let childAt = 2 * at + 1;
      if (childAt >= size) break;
      if (childAt + 1 < size && this.heap[childAt + 1].due < this.heap[childAt].due) childAt++;
      const child = this.heap[childAt];
      if (slot.due <= child.due) break;
      this.heap[at] = child;
      this.index.set(child.item, at);
      at = childAt;
    }
    this.heap[at] = slot;
    this.index.set(slot.item, at);
  }
}
