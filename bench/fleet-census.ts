// One pass over a fleet that both the shape report and the find sources start from: every
// distinct descriptor (by canonical JSON) with its device count, the devices of each host, and
// the capacity totals. Hosts may come from a one-shot generator: they are read once.

import type { DescriptorJson, FleetHost } from './fleet-types.ts';

// Canonical JSON: sorted keys, sets sorted and deduplicated (the spec's canonical form, less
// version normalization, which the fleet's descriptors need not).

const canonicalCache = new WeakMap<object, string>();

export function canonicalDescriptorJson(descriptor: DescriptorJson): string {
  let key = canonicalCache.get(descriptor);
  if (key === undefined) {
    key = JSON.stringify(canonicalize(descriptor, ''));
    canonicalCache.set(descriptor, key);
  }
  return key;
}

function canonicalize(value: unknown, parentKey: string): unknown {
  if (Array.isArray(value)) {
    const items = value.map((v) => canonicalize(v, ''));
    return parentKey === 'values' || parentKey === 'compatible_types'
      ? items.every((v) => typeof v === 'string')
        ? [...new Set(items as string[])].sort()
        : items
      : items;
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = canonicalize(v, k);
    }
    return out;
  }
  return value;
}

// One pass over a fleet: every distinct descriptor with its device count, and per host the
// descriptors of its devices (so a source's own host can be left out afterwards).

export interface DescriptorStat {
  readonly key: string;
  readonly descriptor: DescriptorJson;
  count: number;
  readonly firstHost: number;
  readonly firstDevice: string;
}

export interface Census {
  readonly hostIds: string[];
  readonly hostsPerClass: Map<string, number>;
  readonly stats: DescriptorStat[];
  /** Device i's descriptor, as an index into stats; host h owns [hostStart[h], hostStart[h+1]). */
  readonly deviceStat: number[];
  readonly hostStart: number[];
  readonly devicesPerType: Map<string, number>;
  vfs: number;
  vfsFree: number;
  mdevInstances: number;
  mdevFree: number;
}

export function takeCensus(hosts: Iterable<FleetHost>): Census {
  const census: Census = {
    hostIds: [],
    hostsPerClass: new Map(),
    stats: [],
    deviceStat: [],
    hostStart: [0],
    devicesPerType: new Map(),
    vfs: 0,
    vfsFree: 0,
    mdevInstances: 0,
    mdevFree: 0,
  };
  const index = new Map<string, number>();
  for (const host of hosts) {
    const h = census.hostIds.length;
    census.hostIds.push(host.host_id);
    increment(census.hostsPerClass, host.hostClass);
    for (const device of host.devices) {
      const key = canonicalDescriptorJson(device.descriptor);
      let s = index.get(key);
      if (s === undefined) {
        s = census.stats.length;
        index.set(key, s);
        census.stats.push({ key, descriptor: device.descriptor, count: 0, firstHost: h, firstDevice: device.device_id });
      }
      census.stats[s].count++;
      census.deviceStat.push(s);
      increment(census.devicesPerType, device.descriptor.type);
      const capacity = device.capacity;
      if (capacity !== undefined) {
        if (capacity.total === 1) {
          census.vfs++;
          census.vfsFree += capacity.available;
        } else {
          census.mdevInstances += capacity.total;
          census.mdevFree += capacity.available;
        }
      }
    }
    census.hostStart.push(census.deviceStat.length);
  }
  return census;
}

export function increment(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}
