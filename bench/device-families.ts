// The six device families of the benchmark fleet (fleet-mix.md): NVIDIA vGPU, Intel GVT-g, QAT,
// mlx5, HiSilicon accelerators and virtio-net VFs. Each family knows its types, the
// driver/firmware states a host can be in and the descriptors its devices carry, and emits a
// host's devices of that family. Descriptors are already canonical (sets sorted, versions
// normalized) and shared between devices, frozen: copy one before changing it.

import type { AttributeValueJson, CompareOpName, DescriptorJson, FleetDevice, RuleJson } from './fleet-types.ts';
import { Choice, intUpTo, type Rng } from './fleet-random.ts';

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

export type DeviceSink = (device: FleetDevice) => void;

/**
 * A family draws its host-wide state once from `stratum` (the host's quasi-random value for
 * this family, split into one choice after another), then emits `count` devices, drawing
 * capacity from `rng`.
 */
export interface Family {
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

export const nvidia: Family = {
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

export const gvtg: Family = {
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

export const qat: Family = {
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

export const mlx5: Family = {
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

export const hisi: Family = {
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

export const virtio: Family = {
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

export const FAMILIES: readonly Family[] = [nvidia, gvtg, qat, mlx5, hisi, virtio];

export const FAMILY_OF_TYPE = new Map<string, string>(FAMILIES.flatMap((f) => f.types.map((t) => [t, f.name] as const)));
