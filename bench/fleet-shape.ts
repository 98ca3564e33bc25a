// The benchmark fleet's shape: counts per host class, family and type, distinct descriptors,
// free shares, and for each FindTargets source how many candidates the server will examine
// (and, estimated, find compatible). print-fleet.ts and the bench report show it next to the
// reference mix (fleet-mix.md), so that a drift shows.

import { FAMILY_OF_TYPE } from './device-families.ts';
import { pickSources, type FindSource } from './find-sources.ts';
import { increment, takeCensus, type Census } from './fleet-census.ts';
import type { FleetHost } from './fleet-types.ts';
import { estimateVerdict, isCandidate } from './verdict-estimate.ts';

export interface SourceShape {
  readonly source: FindSource;
  /**
   * Devices on other hosts with the source's vendor and device_api whose type is the source's
   * or lists it in compatible_types: what the server examines.
   */
  readonly candidates: number;
  /**
   * ESTIMATE of the candidates the server will find compatible (with or without warnings),
   * from this file's small re-reading of the compatibility model; the server's count is the
   * real number.
   */
  readonly estimatedCompatible: number;
  /** ESTIMATE of how many of estimatedCompatible carry warnings. */
  readonly estimatedWithWarnings: number;
}

export interface FleetShape {
  readonly hosts: number;
  readonly devices: number;
  readonly hostsPerClass: Readonly<Record<string, number>>;
  readonly devicesPerFamily: Readonly<Record<string, number>>;
  readonly devicesPerType: Readonly<Record<string, number>>;
  /** Distinct descriptors, by canonical JSON (sorted keys, sorted sets). */
  readonly distinctDescriptors: number;
  readonly distinctDescriptorsPerFamily: Readonly<Record<string, number>>;
  /** Share of single-instance devices (VFs) with their instance free. */
  readonly vfFreeShare: number;
  /** Free instances over total instances, for multi-instance (mdev type) devices. */
  readonly mdevFreeShare: number;
  readonly sources: { readonly gvtg: SourceShape; readonly nvidia: SourceShape; readonly mlx5: SourceShape };
}

/** The reference fleet's shape (10,000 hosts), from fleet-mix.md, to show drift against. */
export const REFERENCE_SHAPE = {
  hosts: 10_000,
  devices: 160_000,
  hostsPerClass: {
    'vgpu-nvidia': 2040,
    'vgpu-gvtg': 1118,
    'crypto-qat': 1398,
    'net-mlx5': 2909,
    'accel-hisi': 1073,
    'net-virtio': 1462,
  },
  devicesPerType: {
    'nvidia-525': 10_223,
    'nvidia-526': 3053,
    'nvidia-257': 2036,
    'nvidia-258': 1008,
    'i915-GVTg_V5_1': 1009,
    'i915-GVTg_V5_2': 1009,
    'i915-GVTg_V5_4': 1009,
    'i915-GVTg_V5_8': 1009,
    'i915-GVTg_V4_1': 109,
    'i915-GVTg_V4_2': 109,
    'i915-GVTg_V4_4': 109,
    'i915-GVTg_V4_8': 109,
    qat_vfio_pci: 11_184,
    mlx5_vfio_pci: 74_048,
    hisi_acc_vfio_pci: 8584,
    virtio_vfio_pci: 45_392,
  },
  distinctDescriptors: 374,
  sources: {
    gvtg: { candidates: 1000, compatible: 260 },
    nvidia: { candidates: 10_200, compatible: 700 },
  },
} as const;

/** Counts that show whether a fleet matches the mix; `hosts` may be a one-shot generator. */
export function describeFleet(hosts: Iterable<FleetHost>): FleetShape {
  const census = takeCensus(hosts);
  const sources = pickSources(census);

  const devicesPerFamily = new Map<string, number>();
  for (const [type, n] of census.devicesPerType) increment(devicesPerFamily, FAMILY_OF_TYPE.get(type) ?? 'other', n);
  const distinctPerFamily = new Map<string, number>();
  for (const s of census.stats) increment(distinctPerFamily, FAMILY_OF_TYPE.get(s.descriptor.type) ?? 'other');

  return {
    hosts: census.hostIds.length,
    devices: census.deviceStat.length,
    hostsPerClass: Object.fromEntries(census.hostsPerClass),
    devicesPerFamily: Object.fromEntries(devicesPerFamily),
    devicesPerType: Object.fromEntries(census.devicesPerType),
    distinctDescriptors: census.stats.length,
    distinctDescriptorsPerFamily: Object.fromEntries(distinctPerFamily),
    vfFreeShare: census.vfs === 0 ? 0 : census.vfsFree / census.vfs,
    mdevFreeShare: census.mdevInstances === 0 ? 0 : census.mdevFree / census.mdevInstances,
    sources: {
      gvtg: shapeOfSource(census, sources.gvtg),
      nvidia: shapeOfSource(census, sources.nvidia),
      mlx5: shapeOfSource(census, sources.mlx5),
    },
  };
}

function shapeOfSource(census: Census, source: FindSource): SourceShape {
  const sourceHost = census.hostIds.indexOf(source.host_id);
  // Devices per descriptor on the source's host, which the server leaves out.
  const onSourceHost = new Map<number, number>();
  for (let d = census.hostStart[sourceHost]; d < census.hostStart[sourceHost + 1]; d++) {
    onSourceHost.set(census.deviceStat[d], (onSourceHost.get(census.deviceStat[d]) ?? 0) + 1);
  }
  let candidates = 0;
  let compatible = 0;
  let withWarnings = 0;
  census.stats.forEach((stat, s) => {
    if (!isCandidate(source.descriptor, stat.descriptor)) return;
    const n = stat.count - (onSourceHost.get(s) ?? 0);
    candidates += n;
    const verdict = estimateVerdict(source.descriptor, stat.descriptor);
    if (verdict !== 'incompatible') compatible += n;
    if (verdict === 'warnings') withWarnings += n;
  });
  return { source, candidates, estimatedCompatible: compatible, estimatedWithWarnings: withWarnings };
}
