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

import type { CompareOp } from '../client/types.ts';
import { mulberry32 } from './stats.ts';

// ---------------------------------------------------------------------------------------
// Descriptor JSON (proto field names, as in the conformance vectors).

export type CompareOpName = CompareOp;

export type AttributeValueJson =
  | { readonly int_value: number }
  | { readonly string_value: string }
  | { readonly bool_value: boolean }
  | { readonly version_value: string }
  | { readonly set_value: { readonly values: readonly string[] } };

export interface RuleJson {
  readonly op: CompareOpName;
  readonly values?: readonly AttributeValueJson[];
  readonly range?: string;
  readonly warn_only?: boolean;
}

export interface DescriptorJson {
  readonly vendor: string;
  readonly device_api: string;
  readonly type: string;
  readonly compatible_types?: readonly string[];
  readonly software_version: string;
  readonly attributes: Readonly<Record<string, AttributeValueJson>>;
  readonly rules: Readonly<Record<string, RuleJson>>;
}

// ---------------------------------------------------------------------------------------
// Fleet shapes.

export interface FleetDevice {
  device_id: string;
  /** Shared with every device of the same descriptor, and frozen. */
  descriptor: DescriptorJson;
  capacity?: { total: number; available: number };
  labels: Record<string, string>;
}

export interface FleetHost {
  host_id: string;
  labels: Record<string, string>;
  devices: FleetDevice[];
  hostClass: string;
}

export interface FleetSpec {
  /** Number of hosts (10,000 for the reference fleet). */
  hosts: number;
  /** Any 32-bit integer; the reference fleet uses 1. */
  seed: number;
}

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

// ---------------------------------------------------------------------------------------
// Randomness: a seeded mulberry32 stream per host, keyed by (seed, host index), for capacity.

type Rng = () => number;

// murmur3's finalizer: spreads (seed, index) so that neighbouring hosts get unrelated streams.
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hostRng(seed: number, index: number): Rng {
  return mulberry32(fmix32(fmix32(seed ^ 0x5bd1e995) + Math.imul(index + 1, 0x9e3779b9)));
}

// Quasi-random (Kronecker) draws for the host class and for each family's per-host state: the
// k-th draw is frac(offset + k * alpha), offset from the seed, alpha a quadratic irrational (so
// the points spread evenly); k is the host's index for its class, and the host's rank among the
// hosts carrying the family for that family's state. The shares then land on the mix with little
// sampling noise at any fleet size (at 10,000 hosts the class counts are the reference fleet's)
// and even the rarest driver/firmware combinations show up. Capacity is pseudo-random.
function kronecker(offset: number, index: number, alpha: number): number {
  const x = offset + index * alpha;
  return x - Math.floor(x);
}

function seedOffset(seed: number, salt: number): number {
  return fmix32(fmix32(seed ^ 0x27d4eb2f) ^ Math.imul(salt + 1, 0x165667b1)) / 4294967296;
}

// frac(golden ratio), then frac(sqrt(p)) for primes p: rationally independent of each other.
const CLASS_ALPHA = 0.6180339887498949;

/** Uniform integer in 0..max (inclusive). */
function intUpTo(rng: Rng, max: number): number {
  return Math.floor(rng() * (max + 1));
}

class Choice<T> {
  private readonly values: readonly T[];
  private readonly cumulative: readonly number[];

  constructor(entries: readonly (readonly [T, number])[]) {
    let total = 0;
    const cumulative: number[] = [];
    for (const [, weight] of entries) {
      total += weight;
      cumulative.push(total);
    }
    this.values = entries.map(([value]) => value);
    this.cumulative = cumulative.map((c) => c / total);
  }

  pickAt(u: number): T {
    return this.split(u)[0];
  }

  /** The value at u in [0, 1), and where u falls inside that value's share, again in [0, 1). */
  split(u: number): [T, number] {
    const cumulative = this.cumulative;
    let low = 0;
    for (let i = 0; i < cumulative.length; i++) {
      if (u < cumulative[i] || i === cumulative.length - 1) {
        return [this.values[i], Math.min(Math.max((u - low) / (cumulative[i] - low), 0), 1 - Number.EPSILON)];
      }
      low = cumulative[i];
    }
    throw new Error('a Choice needs at least one value');
  }
}

// ---------------------------------------------------------------------------------------
// Descriptor building blocks. One frozen descriptor per distinct parameter tuple.

const descriptorCache = new Map<string, DescriptorJson>();

function sharedDescriptor(key: string, build: () => DescriptorJson): DescriptorJson {
  let descriptor = descriptorCache.get(key);
  if (descriptor === undefined) {
    descriptor = deepFreeze(build());
    descriptorCache.set(key, descriptor);
  }
  return descriptor;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

const int = (n: number): AttributeValueJson => ({ int_value: n });
const str = (s: string): AttributeValueJson => ({ string_value: s });
const bool = (b: boolean): AttributeValueJson => ({ bool_value: b });
const version = (v: string): AttributeValueJson => ({ version_value: v });
const set = (values: readonly string[]): AttributeValueJson => ({ set_value: { values: [...values].sort() } });
const rule = (op: CompareOpName, warnOnly = false): RuleJson => (warnOnly ? { op, warn_only: true } : { op });

/** PCI functions `0000:{bus}:{dev}.{fn}` from function number `first` on, 8 functions a slot. */
function pciFunctions(bus: string, first: number, count: number): string[] {
  const out: string[] = [];
  for (let f = first; f < first + count; f++) {
    out.push(`0000:${bus}:${(f >> 3).toString(16).padStart(2, '0')}.${f & 7}`);
  }
  return out;
}

type DeviceSink = (device: FleetDevice) => void;

/**
 * A family draws its host-wide state once from `stratum` (the host's quasi-random value for
 * this family, split into one choice after another), then emits `count` devices, drawing
 * capacity from `rng`.
 */
interface Family {
  readonly name: string;
  readonly types: readonly string[];
  /** This family's Kronecker step. */
  readonly alpha: number;
  emit(rng: Rng, stratum: number, count: number, sink: DeviceSink): void;
}

function vfCapacity(rng: Rng): { total: number; available: number } {
  return { total: 1, available: rng() < 0.7 ? 1 : 0 };
}

function checkCount(family: string, count: number, max: number): void {
  if (count > max) throw new RangeError(`${family}: at most ${max} devices per host, asked for ${count}`);
}

// ---------------------------------------------------------------------------------------
// NVIDIA vGPU (10de): one driver and one ECC mode per host; a vGPU type per GPU.

interface NvidiaType {
  readonly type: string;
  readonly framebufferMb: number;
  readonly maxInstance: number;
}

const NVIDIA_TYPES = new Choice<NvidiaType>([
  [{ type: 'nvidia-525', framebufferMb: 2048, maxInstance: 24 }, 10_223],
  [{ type: 'nvidia-526', framebufferMb: 4096, maxInstance: 12 }, 3053],
  [{ type: 'nvidia-257', framebufferMb: 2048, maxInstance: 12 }, 2036],
  [{ type: 'nvidia-258', framebufferMb: 4096, maxInstance: 6 }, 1008],
]);

// The fleet spreads over four release trains; 17.3.0 is the most rolled-out single release and
// its two follow-up patches are still rare. (software_version, vGPU manager driver version.)
const NVIDIA_DRIVERS = new Choice<readonly [string, string]>([
  [['16.5.0', '535.183.1'], 9.6],
  [['16.5.1', '535.183.4'], 9.5],
  [['16.5.2', '535.183.6'], 9.6],
  [['16.8.0', '535.230.2'], 9.6],
  [['16.8.1', '535.247.1'], 9.5],
  [['16.8.2', '535.261.3'], 9.6],
  [['17.1.0', '550.90.5'], 9.6],
  [['17.1.1', '550.90.7'], 9.5],
  [['17.1.2', '550.90.12'], 9.5],
  [['17.3.0', '550.127.5'], 11.6],
  [['17.3.1', '550.127.8'], 1],
  [['17.3.2', '550.144.2'], 1],
]);

const GPU_ADDRESSES = ['17', '31', '4b', '65', '98', 'b1', 'ca', 'e3'].map((bus) => `0000:${bus}:00.0`);

const nvidia: Family = {
  name: 'nvidia',
  types: ['nvidia-525', 'nvidia-526', 'nvidia-257', 'nvidia-258'],
  alpha: 0.41421356237309515, // sqrt(2)
  emit(rng, stratum, count, sink) {
    checkCount('nvidia', count, GPU_ADDRESSES.length);
    const [[softwareVersion, manager], rest] = NVIDIA_DRIVERS.split(stratum);
    const ecc = rest < 0.5;
    // Systematic sampling: the host's GPUs take evenly spaced points of the type mix, from where
    // the stratum falls inside its ECC half.
    const start = (rest * 2) % 1;
    for (let i = 0; i < count; i++) {
      const t = NVIDIA_TYPES.pickAt((start + i / count) % 1);
      const descriptor = sharedDescriptor(`nvidia|${t.type}|${softwareVersion}|${ecc}`, () => ({
        vendor: '10de',
        device_api: 'vfio-pci',
        type: t.type,
        software_version: softwareVersion,
        attributes: {
          ecc: bool(ecc),
          framebuffer_mb: int(t.framebufferMb),
          manager: version(manager),
          max_instance: int(t.maxInstance),
        },
        rules: {
          manager: rule('COMPARE_OP_VERSION_GE', true),
          max_instance: rule('COMPARE_OP_IGNORE'),
        },
      }));
      sink({
        device_id: `${GPU_ADDRESSES[i]}-${t.type}`,
        descriptor,
        capacity: { total: t.maxInstance, available: intUpTo(rng, t.maxInstance) },
        labels: { family: 'nvidia-vgpu', parent: GPU_ADDRESSES[i] },
      });
    }
  },
};

// ---------------------------------------------------------------------------------------
// Intel GVT-g (8086): the host's one iGPU offers its generation's four types.

interface GvtgType {
  readonly instances: number;
  readonly lowGmMb: number;
  readonly highGmMb: number;
  readonly fence: number;
}

// i915's vGPU type table: the _N suffix is how many instances fit on the iGPU.
const GVTG_TYPES: readonly GvtgType[] = [
  { instances: 1, lowGmMb: 512, highGmMb: 2048, fence: 4 },
  { instances: 2, lowGmMb: 256, highGmMb: 1024, fence: 4 },
  { instances: 4, lowGmMb: 128, highGmMb: 512, fence: 4 },
  { instances: 8, lowGmMb: 64, highGmMb: 384, fence: 4 },
];

interface GvtgState {
  readonly generation: 'V5' | 'V4';
  readonly softwareVersion: string;
  readonly pciIds: readonly string[];
  readonly pvMode: readonly string[];
}

const GVTG_GENERATION = new Choice<'V5' | 'V4'>([
  ['V5', 1009],
  ['V4', 109],
]);
const GVTG_V5_VERSIONS = new Choice<string>([
  ['1.0.0', 13],
  ['1.1.0', 17],
  ['1.2.0', 32],
  ['1.3.0', 20],
  ['2.0.0', 18],
]);
// Parent iGPU ids the host's driver accepts a stream for: Kaby Lake GT2, Coffee Lake GT2, or a
// build that takes both Kaby Lake GT2 variants.
const GVTG_V5_PCI_IDS = new Choice<readonly string[]>([
  [['591b'], 45],
  [['3e92'], 33],
  [['5912', '591b'], 22],
]);
const GVTG_V5_PV_MODES = new Choice<readonly string[]>([
  [['none', 'ppgtt'], 55],
  [['none'], 25],
  [['context', 'none', 'ppgtt'], 20],
]);
const GVTG_V4_VERSIONS = new Choice<string>([
  ['1.0.0', 60],
  ['1.1.0', 40],
]);

const IGPU_ADDRESS = '0000:00:02.0';

function drawGvtgState(stratum: number): GvtgState {
  const [generation, rest] = GVTG_GENERATION.split(stratum);
  if (generation === 'V4') {
    // Broadwell: one id, no paravirtualized modes.
    return { generation, softwareVersion: GVTG_V4_VERSIONS.pickAt(rest), pciIds: ['1616'], pvMode: ['none'] };
  }
  const [softwareVersion, rest2] = GVTG_V5_VERSIONS.split(rest);
  const [pciIds, rest3] = GVTG_V5_PCI_IDS.split(rest2);
  return { generation, softwareVersion, pciIds, pvMode: GVTG_V5_PV_MODES.pickAt(rest3) };
}

const gvtg: Family = {
  name: 'gvt-g',
  types: ['V5', 'V4'].flatMap((g) => GVTG_TYPES.map((t) => `i915-GVTg_${g}_${t.instances}`)),
  alpha: 0.7320508075688772, // sqrt(3)
  emit(rng, stratum, count, sink) {
    checkCount('gvt-g', count, GVTG_TYPES.length);
    const state = drawGvtgState(stratum);
    for (let i = 0; i < count; i++) {
      const t = GVTG_TYPES[i];
      const type = `i915-GVTg_${state.generation}_${t.instances}`;
      const key = `gvtg|${type}|${state.softwareVersion}|${state.pciIds.join(',')}|${state.pvMode.join(',')}`;
      const descriptor = sharedDescriptor(key, () => ({
        vendor: '8086',
        device_api: 'vfio-pci',
        type,
        // The newest type takes streams of its Broadwell counterpart (not the other way round).
        ...(type === 'i915-GVTg_V5_8' ? { compatible_types: ['i915-GVTg_V4_8'] } : {}),
        software_version: state.softwareVersion,
        attributes: {
          fence: int(t.fence),
          high_gm_mb: int(t.highGmMb),
          low_gm_mb: int(t.lowGmMb),
          pci_ids: set(state.pciIds),
          pv_mode: set(state.pvMode),
        },
        rules: {
          pci_ids: rule('COMPARE_OP_SUPERSET'),
          pv_mode: rule('COMPARE_OP_SUPERSET'),
        },
      }));
      sink({
        device_id: `${IGPU_ADDRESS}-${type}`,
        descriptor,
        capacity: { total: t.instances, available: intUpTo(rng, t.instances) },
        labels: { family: 'gvt-g', parent: IGPU_ADDRESS },
      });
    }
  },
};

// ---------------------------------------------------------------------------------------
// Intel QAT (8086) VFs: one driver, one service configuration and one SLA per host.

const QAT_VERSIONS = new Choice<readonly [string, string]>([
  // (software_version, compat_ver of the PF driver)
  [['1.0.2', '2.0.0'], 30],
  [['1.1.0', '2.1.0'], 40],
  [['2.0.1', '3.0.0'], 30],
]);
const QAT_SERVICES = new Choice<readonly [string, readonly string[]]>([
  // (svc_map, caps)
  [['sym;asym', ['asym', 'auth', 'cipher', 'sym']], 50],
  [['dc', ['cnv', 'dc']], 30],
  [['asym;dc', ['asym', 'cnv', 'dc']], 20],
]);
const QAT_SLAS = new Choice<readonly [number, number]>([
  // (sla_cir, sla_pir)
  [[1000, 2000], 60],
  [[2000, 4000], 40],
]);
const QAT_PF = '6b';
const QAT_VF_ADDRESSES = pciFunctions(QAT_PF, 1, 16);

const qat: Family = {
  name: 'qat',
  types: ['qat_vfio_pci'],
  alpha: 0.6457513110645907, // sqrt(7)
  emit(rng, stratum, count, sink) {
    checkCount('qat', count, QAT_VF_ADDRESSES.length);
    const [[softwareVersion, compatVer], rest] = QAT_VERSIONS.split(stratum);
    const [[svcMap, caps], rest2] = QAT_SERVICES.split(rest);
    const [cir, pir] = QAT_SLAS.pickAt(rest2);
    // Extended compression capabilities come with the 2.x driver.
    const extDcCaps = !svcMap.includes('dc') ? [] : softwareVersion.startsWith('2.') ? ['lz4', 'lz4s'] : ['lz4s'];
    const descriptor = sharedDescriptor(`qat|${softwareVersion}|${svcMap}|${cir}`, () => ({
      vendor: '8086',
      device_api: 'vfio-pci',
      type: 'qat_vfio_pci',
      software_version: softwareVersion,
      attributes: {
        caps: set(caps),
        compat_ver: version(compatVer),
        ext_dc_caps: set(extDcCaps),
        sla_cir: int(cir),
        sla_pir: int(pir),
        svc_map: str(svcMap),
      },
      rules: {
        caps: rule('COMPARE_OP_SUPERSET'),
        compat_ver: rule('COMPARE_OP_VERSION_GE', true),
        ext_dc_caps: rule('COMPARE_OP_SUPERSET'),
        sla_cir: rule('COMPARE_OP_GE'),
        sla_pir: rule('COMPARE_OP_GE'),
        svc_map: rule('COMPARE_OP_EQUAL'),
      },
    }));
    for (let i = 0; i < count; i++) {
      sink({
        device_id: QAT_VF_ADDRESSES[i],
        descriptor,
        capacity: vfCapacity(rng),
        labels: { family: 'qat', pf: `0000:${QAT_PF}:00.0` },
      });
    }
  },
};

// ---------------------------------------------------------------------------------------
// NVIDIA/Mellanox ConnectX (15b3) VFs: one NIC model and one firmware per host.

const MLX5_NICS = new Choice<readonly [string, Choice<string>]>([
  // (PSID, firmware)
  [
    [
      'MT_1090111019',
      new Choice([
        ['28.39.2048', 20],
        ['28.41.1000', 40],
        ['28.42.1000', 25],
        ['28.43.1014', 15],
      ]),
    ],
    45,
  ],
  [
    [
      'MT_0000000834',
      new Choice([
        ['28.39.2048', 25],
        ['28.41.1000', 35],
        ['28.42.1000', 25],
        ['28.43.1014', 15],
      ]),
    ],
    25,
  ],
  [
    [
      'MT_0000000359',
      new Choice([
        ['22.39.2048', 30],
        ['22.41.1000', 35],
        ['22.42.1000', 20],
        ['22.43.1014', 15],
      ]),
    ],
    30,
  ],
]);
const MLX5_VERSIONS = new Choice<string>([
  ['1.0.0', 40],
  ['1.1.0', 60],
]);
const MLX5_PF = '3b';
// Functions 0 and 1 are the two ports' PFs; VFs follow.
const MLX5_VF_ADDRESSES = pciFunctions(MLX5_PF, 2, 16);

const mlx5: Family = {
  name: 'mlx5',
  types: ['mlx5_vfio_pci'],
  alpha: 0.3166247903554, // sqrt(11)
  emit(rng, stratum, count, sink) {
    checkCount('mlx5', count, MLX5_VF_ADDRESSES.length);
    const [[psid, firmwares], rest] = MLX5_NICS.split(stratum);
    const [firmware, rest2] = firmwares.split(rest);
    const softwareVersion = MLX5_VERSIONS.pickAt(rest2);
    // mlx5 declares no rules: the same PSID and the same firmware are required.
    const descriptor = sharedDescriptor(`mlx5|${softwareVersion}|${psid}|${firmware}`, () => ({
      vendor: '15b3',
      device_api: 'vfio-pci',
      type: 'mlx5_vfio_pci',
      software_version: softwareVersion,
      attributes: { firmware: version(firmware), psid: str(psid) },
      rules: {},
    }));
    for (let i = 0; i < count; i++) {
      sink({
        device_id: MLX5_VF_ADDRESSES[i],
        descriptor,
        capacity: vfCapacity(rng),
        labels: { family: 'mlx5', pf: `0000:${MLX5_PF}:00.0` },
      });
    }
  },
};

// ---------------------------------------------------------------------------------------
// HiSilicon Kunpeng accelerators (19e5): SEC, HPRE and ZIP VFs; one driver and one queue
// configuration per host.

// (VF address, dev_id): SEC VFs a256, HPRE VFs a259, ZIP VFs a251.
const HISI_VFS: readonly (readonly [string, string])[] = [
  ...pciFunctions('76', 1, 3).map((a) => [a, 'a256'] as const),
  ...pciFunctions('79', 1, 3).map((a) => [a, 'a259'] as const),
  ...pciFunctions('75', 1, 2).map((a) => [a, 'a251'] as const),
];
const HISI_VERSIONS = new Choice<string>([
  ['1.0.0', 55],
  ['1.1.0', 45],
]);
const HISI_QP_NUMS = new Choice<number>([
  [4, 60],
  [8, 40],
]);

const hisi: Family = {
  name: 'hisi',
  types: ['hisi_acc_vfio_pci'],
  alpha: 0.6055512754639891, // sqrt(13)
  emit(rng, stratum, count, sink) {
    checkCount('hisi', count, HISI_VFS.length);
    const [softwareVersion, rest] = HISI_VERSIONS.split(stratum);
    const [qpNum, rest2] = HISI_QP_NUMS.split(rest);
    const queIsoCfg = rest2 < 0.3;
    for (let i = 0; i < count; i++) {
      const [address, devId] = HISI_VFS[i];
      const descriptor = sharedDescriptor(`hisi|${softwareVersion}|${devId}|${qpNum}|${queIsoCfg}`, () => ({
        vendor: '19e5',
        device_api: 'vfio-pci',
        type: 'hisi_acc_vfio_pci',
        software_version: softwareVersion,
        attributes: { dev_id: str(devId), qp_num: int(qpNum), que_iso_cfg: bool(queIsoCfg) },
        rules: {},
      }));
      sink({
        device_id: address,
        descriptor,
        capacity: vfCapacity(rng),
        labels: { family: 'hisi', pf: `${address.slice(0, -1)}0` },
      });
    }
  },
};

// ---------------------------------------------------------------------------------------
// virtio-net VFs (1af4): one driver, one offered feature set and one MTU per host.

const VIRTIO_VERSIONS = new Choice<string>([
  ['1.0.0', 30],
  ['1.1.0', 45],
  ['1.2.1', 25],
]);
const VIRTIO_FEATURES = new Choice<readonly string[]>([
  [['csum', 'mrg_rxbuf'], 30],
  [['csum', 'mrg_rxbuf', 'rss'], 30],
  [['csum', 'guest_tso4', 'host_tso4', 'mrg_rxbuf', 'rss'], 25],
  [['csum', 'ctrl_vq', 'guest_tso4', 'host_tso4', 'mq', 'mrg_rxbuf', 'rss'], 15],
]);
const VIRTIO_MTUS = new Choice<number>([
  [1500, 60],
  [9000, 40],
]);
const VIRTIO_PF = 'af';
const VIRTIO_VF_ADDRESSES = pciFunctions(VIRTIO_PF, 1, 16);

const virtio: Family = {
  name: 'virtio',
  types: ['virtio_vfio_pci'],
  alpha: 0.12310562561766059, // sqrt(17)
  emit(rng, stratum, count, sink) {
    checkCount('virtio', count, VIRTIO_VF_ADDRESSES.length);
    const [softwareVersion, rest] = VIRTIO_VERSIONS.split(stratum);
    const [features, rest2] = VIRTIO_FEATURES.split(rest);
    const mtu = VIRTIO_MTUS.pickAt(rest2);
    const descriptor = sharedDescriptor(`virtio|${softwareVersion}|${features.join(',')}|${mtu}`, () => ({
      vendor: '1af4',
      device_api: 'vfio-pci',
      type: 'virtio_vfio_pci',
      software_version: softwareVersion,
      attributes: { device_features: set(features), mtu: int(mtu) },
      rules: { device_features: rule('COMPARE_OP_SUPERSET') },
    }));
    for (let i = 0; i < count; i++) {
      sink({
        device_id: VIRTIO_VF_ADDRESSES[i],
        descriptor,
        capacity: vfCapacity(rng),
        labels: { family: 'virtio', pf: `0000:${VIRTIO_PF}:00.0` },
      });
    }
  },
};

const FAMILIES: readonly Family[] = [nvidia, gvtg, qat, mlx5, hisi, virtio];

const FAMILY_OF_TYPE = new Map<string, string>(FAMILIES.flatMap((f) => f.types.map((t) => [t, f.name] as const)));

// ---------------------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------------------
// One pass over a fleet: every distinct descriptor with its device count, and per host the
// descriptors of its devices (so a source's own host can be left out afterwards).

interface DescriptorStat {
  readonly key: string;
  readonly descriptor: DescriptorJson;
  count: number;
  readonly firstHost: number;
  readonly firstDevice: string;
}

interface Census {
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

function takeCensus(hosts: Iterable<FleetHost>): Census {
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

function increment(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
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

function pickSources(census: Census): FindSources {
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

function isCandidate(source: DescriptorJson, target: DescriptorJson): boolean {
  return (
    source.vendor === target.vendor &&
    source.device_api === target.device_api &&
    (source.type === target.type || (target.compatible_types ?? []).includes(source.type))
  );
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

// ---------------------------------------------------------------------------------------
// ESTIMATE ONLY: a small re-reading of the compatibility model's checks, enough to tune the
// fleet's compatible counts before the server measures them. Not the engine, not a reference
// for it: the server's verdicts are the numbers that count.

type Estimate = 'compatible' | 'warnings' | 'incompatible';

interface ParsedVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly prerelease: string;
}

function parseVersion(text: string | undefined): ParsedVersion | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec((text ?? '').trim());
  return m === null
    ? undefined
    : { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), prerelease: m[4] ?? '' };
}

function compareVersions(a: ParsedVersion, b: ParsedVersion): number {
  if (a.major !== b.major) return a.major - b.major;
  if (a.minor !== b.minor) return a.minor - b.minor;
  if (a.patch !== b.patch) return a.patch - b.patch;
  if (a.prerelease === b.prerelease) return 0;
  if (a.prerelease === '') return 1;
  if (b.prerelease === '') return -1;
  return a.prerelease < b.prerelease ? -1 : 1; // approximate: identifiers compared as text
}

function semverPasses(s: ParsedVersion, t: ParsedVersion): boolean {
  if (s.major !== t.major) return false;
  if ((s.prerelease !== '' || t.prerelease !== '') && compareVersions(s, t) !== 0) return false;
  return t.minor >= s.minor;
}

type Kind = 'int' | 'string' | 'bool' | 'version' | 'set';

function kindOf(v: AttributeValueJson): Kind {
  if ('int_value' in v) return 'int';
  if ('string_value' in v) return 'string';
  if ('bool_value' in v) return 'bool';
  if ('version_value' in v) return 'version';
  return 'set';
}

function asSet(v: AttributeValueJson): Set<string> | undefined {
  if ('set_value' in v) return new Set(v.set_value.values);
  if ('string_value' in v) return new Set([v.string_value]);
  return undefined;
}

function valuesEqual(a: AttributeValueJson, b: AttributeValueJson): boolean {
  const kind = kindOf(a);
  if (kind !== kindOf(b)) return false;
  if (kind === 'set') {
    const x = asSet(a) ?? new Set();
    const y = asSet(b) ?? new Set();
    return x.size === y.size && [...x].every((e) => y.has(e));
  }
  if (kind === 'version') {
    const x = parseVersion((a as { version_value: string }).version_value);
    const y = parseVersion((b as { version_value: string }).version_value);
    return x !== undefined && y !== undefined && compareVersions(x, y) === 0;
  }
  return Object.values(a)[0] === Object.values(b)[0];
}

function isSuperset(big: AttributeValueJson | undefined, small: AttributeValueJson | undefined): boolean {
  const smallSet = small === undefined ? new Set<string>() : asSet(small);
  if (smallSet === undefined) return false;
  if (big === undefined) return smallSet.size === 0;
  const bigSet = asSet(big);
  return bigSet !== undefined && [...smallSet].every((e) => bigSet.has(e));
}

function attributeCheckPasses(
  rule: RuleJson | undefined,
  s: AttributeValueJson | undefined,
  t: AttributeValueJson | undefined,
): boolean {
  const op = rule?.op ?? 'COMPARE_OP_EQUAL';
  if (op === 'COMPARE_OP_IGNORE') return true;
  if (op === 'COMPARE_OP_SEMVER_RANGE') throw new Error(`the fleet's compatibility estimate does not model ${op}`);
  if (op === 'COMPARE_OP_ONE_OF') return s !== undefined && (rule?.values ?? []).some((v) => valuesEqual(s, v));
  if (op === 'COMPARE_OP_CLAIMABLE' && (rule?.values ?? []).length > 0) {
    return s !== undefined && (rule?.values ?? []).some((v) => valuesEqual(s, v));
  }
  if (s === undefined && t === undefined) return true;
  switch (op) {
    case 'COMPARE_OP_SUPERSET':
      return isSuperset(t, s);
    case 'COMPARE_OP_SUBSET':
      return isSuperset(s, t);
    default:
      break;
  }
  if (s === undefined || t === undefined) return false;
  switch (op) {
    case 'COMPARE_OP_EQUAL':
    case 'COMPARE_OP_CLAIMABLE':
      return valuesEqual(s, t);
    case 'COMPARE_OP_GE':
    case 'COMPARE_OP_LE': {
      if (!('int_value' in s) || !('int_value' in t)) return false;
      return op === 'COMPARE_OP_GE' ? t.int_value >= s.int_value : t.int_value <= s.int_value;
    }
    case 'COMPARE_OP_SEMVER':
    case 'COMPARE_OP_VERSION_GE': {
      const sv = 'version_value' in s ? parseVersion(s.version_value) : undefined;
      const tv = 'version_value' in t ? parseVersion(t.version_value) : undefined;
      if (sv === undefined || tv === undefined) return false;
      return op === 'COMPARE_OP_SEMVER' ? semverPasses(sv, tv) : compareVersions(tv, sv) >= 0;
    }
    default:
      throw new Error(`the fleet's compatibility estimate does not model ${op}`);
  }
}

/** ESTIMATE of the verdict for migrating `source` onto `target` (the target's rules apply). */
function estimateVerdict(source: DescriptorJson, target: DescriptorJson): Estimate {
  let failed = !isCandidate(source, target);
  let warned = false;
  const record = (passes: boolean, rule: RuleJson | undefined): void => {
    if (passes) return;
    if (rule?.warn_only === true) warned = true;
    else failed = true;
  };
  const versionRule = target.rules['software_version'] ?? { op: 'COMPARE_OP_SEMVER' };
  record(
    attributeCheckPasses(versionRule, version(source.software_version), version(target.software_version)),
    versionRule,
  );
  const names = new Set([
    ...Object.keys(source.attributes),
    ...Object.keys(target.attributes),
    ...Object.keys(target.rules).filter((n) => n !== 'software_version'),
  ]);
  for (const name of names) {
    const rule = target.rules[name];
    record(attributeCheckPasses(rule, source.attributes[name], target.attributes[name]), rule);
  }
  return failed ? 'incompatible' : warned ? 'warnings' : 'compatible';
}
