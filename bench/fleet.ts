// The benchmark fleet: 10,000 hosts x 16 assignable devices by default, in the mix that the
// shared benchmark plan (fleet-mix.md) fixes, so that devcompat and the alternatives it is
// compared with all load the same registry.
//
// Deterministic: the same (hosts, seed) always gives the same fleet, and a smaller fleet is a
// prefix of a larger one. Streaming: hosts are yielded one at a time.
// Realistic clustering: a host draws its class, then its driver/firmware state once per device
// family from a small set of values, so versions cluster by host and descriptors repeat
// (374 distinct descriptors in the reference fleet) as they do in a real fleet.
//
// Descriptors are written the way the conformance vectors write them (proto field names,
// enums by full name) and already in canonical form (sets sorted, versions normalized). They
// are shared between devices and frozen: copy one before changing it.
//
// This file draws hosts (class, rack, zone) and asks each device family (device-families.ts)
// for its devices; the randomness is in fleet-random.ts, the types in fleet-types.ts. What the
// fleet looks like is reported by fleet-shape.ts, and find-sources.ts picks the benchmark's
// FindTargets sources from it.

import { FAMILIES, gvtg, hisi, mlx5, nvidia, qat, virtio, type DeviceSink, type Family } from './device-families.ts';
import { CLASS_ALPHA, Choice, hostRng, kronecker, seedOffset } from './fleet-random.ts';
import type { FleetDevice, FleetHost, FleetSpec } from './fleet-types.ts';

export type { AttributeValueJson, CompareOpName, DescriptorJson, FleetDevice, FleetHost, FleetSpec, RuleJson } from './fleet-types.ts';

// Host classes.

interface HostClass {
  readonly name: string;
  readonly devices: readonly (readonly [Family, number])[];
}

// Weighted by the reference fleet's counts (the mix's 0.20/0.11/0.14/0.30/0.10/0.15 as drawn).
const HOST_CLASSES = new Choice<HostClass>([
  [{ name: 'vgpu-nvidia', devices: [[nvidia, 8], [mlx5, 8]] }, 2040],
  [{ name: 'vgpu-gvtg', devices: [[gvtg, 4], [virtio, 12]] }, 1118],
  [{ name: 'crypto-qat', devices: [[qat, 8], [mlx5, 8]] }, 1398],
  [{ name: 'net-mlx5', devices: [[mlx5, 16]] }, 2909],
  [{ name: 'accel-hisi', devices: [[hisi, 8], [virtio, 8]] }, 1073],
  [{ name: 'net-virtio', devices: [[virtio, 16]] }, 1462],
]);

const HOSTS_PER_RACK = 40;
const ZONES = 8;

/** What generating the next host needs: the seed's offsets and how far each family has got. */
class FleetState {
  readonly classOffset: number;
  private readonly familyOffsets: Map<Family, number>;
  private readonly familyHosts = new Map<Family, number>();

  constructor(readonly seed: number) {
    this.classOffset = seedOffset(seed, 0);
    this.familyOffsets = new Map(FAMILIES.map((family, i) => [family, seedOffset(seed, i + 1)]));
  }

  /** The family's draw for the next host that carries it. */
  nextStratum(family: Family): number {
    const k = this.familyHosts.get(family) ?? 0;
    this.familyHosts.set(family, k + 1);
    return kronecker(this.familyOffsets.get(family) ?? 0, k, family.alpha);
  }
}

function generateHost(state: FleetState, index: number): FleetHost {
  const rng = hostRng(state.seed, index);
  const hostClass = HOST_CLASSES.pickAt(kronecker(state.classOffset, index, CLASS_ALPHA));
  const rack = Math.floor(index / HOSTS_PER_RACK);
  const devices: FleetDevice[] = [];
  const sink: DeviceSink = (device) => devices.push(device);
  for (const [family, count] of hostClass.devices) family.emit(rng, state.nextStratum(family), count, sink);
  return {
    host_id: `h${String(index).padStart(5, '0')}`,
    labels: { zone: `z${rack % ZONES}`, rack: `r${rack}`, class: hostClass.name },
    devices,
    hostClass: hostClass.name,
  };
}

/** Yields the fleet's hosts in order, `h00000` first; the same spec always yields the same fleet. */
export function* generateFleet(spec: FleetSpec): Generator<FleetHost> {
  if (!Number.isSafeInteger(spec.hosts) || spec.hosts < 0) {
    throw new RangeError(`hosts must be a non-negative integer, got ${spec.hosts}`);
  }
  if (!Number.isSafeInteger(spec.seed)) throw new RangeError(`seed must be an integer, got ${spec.seed}`);
  const state = new FleetState(spec.seed | 0);
  for (let i = 0; i < spec.hosts; i++) yield generateHost(state, i);
}
