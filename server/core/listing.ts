// The in-memory indexes behind ListHosts and ListDevices: hosts in id order, and every label
// to the resources that carry it. With the registry's descriptor index they serve every list
// filter; a page costs O(smallest matching set), or O(page) for an unfiltered listing, never
// O(registry).

import { selectBest } from './top-k.ts';
import type { Labels } from './resources.ts';

/** label -> the resources that have it. */
export class LabelIndex<T> {
  private readonly byLabel = new Map<string, Set<T>>();

  add(labels: Labels, item: T): void {
    for (const key in labels) {
      const label = labelKey(key, labels[key]);
      let items = this.byLabel.get(label);
      if (!items) {
        items = new Set();
        this.byLabel.set(label, items);
      }
      items.add(item);
    }
  }

  remove(labels: Labels, item: T): void {
    for (const key in labels) {
      const label = labelKey(key, labels[key]);
      const items = this.byLabel.get(label);
      if (!items) continue;
      items.delete(item);
      if (items.size === 0) this.byLabel.delete(label);
    }
  }

  /** The resources that have this label; empty when none. */
  get(key: string, value: string): ReadonlySet<T> {
    return this.byLabel.get(labelKey(key, value)) ?? EMPTY;
  }
}

const EMPTY: ReadonlySet<never> = new Set();

function labelKey(key: string, value: string): string {
  return `${key}\u0000${value}`;
}

/** A sorted set of ids with ordered iteration from a cursor (hosts: thousands, rarely added). */
export class SortedIds {
  private readonly ids: string[] = [];

  insert(id: string): void {
    const at = this.lowerBound(id);
    if (this.ids[at] !== id) this.ids.splice(at, 0, id);
  }

  remove(id: string): void {
    const at = this.lowerBound(id);
    if (this.ids[at] === id) this.ids.splice(at, 1);
  }

  /** Ids after `after` (exclusive), in order; all of them when `after` is undefined. */
  *from(after: string | undefined): Generator<string> {
    let at = after === undefined ? 0 : this.lowerBound(after);
    if (after !== undefined && this.ids[at] === after) at++;
    for (; at < this.ids.length; at++) yield this.ids[at];
  }

  private lowerBound(id: string): number {
    let low = 0;
    let high = this.ids.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.ids[middle] < id) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The `limit` smallest items after the cursor, in order: bounded selection, not a sort of all. */
export function pageOf<T>(
  candidates: Iterable<T>,
  keep: (item: T) => boolean,
  isAfterCursor: (item: T) => boolean,
  compare: (a: T, b: T) => number,
  limit: number,
): T[] {
  function* eligible() {
    for (const item of candidates) if (isAfterCursor(item) && keep(item)) yield item;
  }
  return selectBest(eligible(), limit, compare);
}
