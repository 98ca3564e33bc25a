// The benchmark's FindTargets sources, picked from the fleet so that every run asks the same
// questions: for a type, the most common software_version, then the most common descriptor of
// that type and version, then that descriptor's first device in fleet order.

import { generateFleet } from './fleet.ts';
import { increment, type Census, takeCensus } from './fleet-census.ts';
import type { DescriptorJson, FleetHost, FleetSpec } from './fleet-types.ts';

/** A FindTargets source: a registered device, so the server leaves its host out. */
export interface FindSource {
  /** `gvtg-v5_8`, `nvidia-525` or `mlx5-vf`. */
  readonly id: string;
  /** The device's resource name, `hosts/{host}/devices/{device}`. */
  readonly name: string;
  readonly host_id: string;
  readonly device_id: string;
  readonly descriptor: DescriptorJson;
}

export interface FindSources {
  readonly gvtg: FindSource;
  readonly nvidia: FindSource;
  readonly mlx5: FindSource;
}

function argmax<T>(items: Iterable<T>, score: (item: T) => number, tieBreak: (item: T) => string): T | undefined {
  let best: T | undefined;
  for (const item of items) {
    if (
      best === undefined ||
      score(item) > score(best) ||
      (score(item) === score(best) && tieBreak(item) < tieBreak(best))
    ) {
      best = item;
    }
  }
  return best;
}

// A source takes its type's most common software_version, then the most common descriptor of
// that type and version; it is that descriptor's first device in fleet order.
function pickSource(census: Census, id: string, type: string): FindSource {
  const ofType = census.stats.filter((s) => s.descriptor.type === type);
  const perVersion = new Map<string, number>();
  for (const s of ofType) increment(perVersion, s.descriptor.software_version, s.count);
  const commonVersion = argmax(perVersion.keys(), (v) => perVersion.get(v) ?? 0, (v) => v);
  const stat = argmax(
    ofType.filter((s) => s.descriptor.software_version === commonVersion),
    (s) => s.count,
    (s) => s.key,
  );
  if (stat === undefined) throw new Error(`the fleet has no ${type} device to use as the ${id} source`);
  const hostId = census.hostIds[stat.firstHost];
  return {
    id,
    name: `hosts/${hostId}/devices/${stat.firstDevice}`,
    host_id: hostId,
    device_id: stat.firstDevice,
    descriptor: stat.descriptor,
  };
}

export function pickSources(census: Census): FindSources {
  return {
    gvtg: pickSource(census, 'gvtg-v5_8', 'i915-GVTg_V5_8'),
    nvidia: pickSource(census, 'nvidia-525', 'nvidia-525'),
    mlx5: pickSource(census, 'mlx5-vf', 'mlx5_vfio_pci'),
  };
}

function isFleetSpec(fleet: FleetSpec | Iterable<FleetHost>): fleet is FleetSpec {
  return typeof (fleet as FleetSpec).seed === 'number' && typeof (fleet as FleetSpec).hosts === 'number';
}

/**
 * The benchmark's FindTargets sources: an i915-GVTg_V5_8 device and an nvidia-525 device with
 * their type's most common software_version, and an mlx5 VF with the most common
 * version/PSID/firmware. Pass the spec (the fleet is regenerated) or the hosts themselves.
 */
export function findSources(fleet: FleetSpec | Iterable<FleetHost>): FindSources {
  return pickSources(takeCensus(isFleetSpec(fleet) ? generateFleet(fleet) : fleet));
}
